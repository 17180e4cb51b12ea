// The Hosts and Runs trees: vscode TreeDataProviders over the pure node models of tree-model.ts.
import * as vscode from 'vscode';
import type { HostSnapshot } from '../hosts/host';
import type { TreeNode } from './tree-model';

export class NodeTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeNode[] = [];

  constructor(private readonly build: (hosts: readonly HostSnapshot[]) => TreeNode[]) {}

  update(hosts: readonly HostSnapshot[]): void {
    this.roots = this.build(hosts);
    this.changed.fire(undefined);
  }

  /** The current top-level nodes (tests read them). */
  get nodes(): readonly TreeNode[] {
    return this.roots;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const state = node.children?.length
      ? node.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon);
    if (node.command) item.command = node.command;
    return item;
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return node ? (node.children ?? []) : this.roots;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
