// Checks a request's params against its JSON Schema (daemon/protocol/params-schemas.ts) and turns the failures into
// one JSON-RPC error naming every field and rule.
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ResponseError } from 'vscode-jsonrpc/node';
import { MantaErrorCodes, type MantaErrorData, type ParamProblem } from '../protocol/errors';
import type { RequestMethod } from '../protocol/methods';
import { paramsSchemas } from '../protocol/params-schemas';

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>();

function validatorFor(method: RequestMethod): ValidateFunction {
  let v = validators.get(method);
  if (!v) {
    v = ajv.compile(paramsSchemas[method]);
    validators.set(method, v);
  }
  return v;
}

/** `params.a.b` for the JSON pointer `/a/b`. */
export function fieldName(pointer: string, root = 'params'): string {
  return pointer === '' ? root : root + pointer.split('/').slice(1).map((s) => '.' + s.replace(/~1/g, '/').replace(/~0/g, '~')).join('');
}

function describe(e: ErrorObject): ParamProblem {
  const where = fieldName(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: `${e.instancePath}/${String(p.missingProperty)}`, rule: 'required', message: `${where} is missing required property '${String(p.missingProperty)}'` };
    case 'additionalProperties':
      return {
        path: `${e.instancePath}/${String(p.additionalProperty)}`,
        rule: 'additionalProperties',
        message: `${where} has unknown property '${String(p.additionalProperty)}'`,
      };
    case 'enum':
      return { path: e.instancePath, rule: 'enum', message: `${where} must be one of ${JSON.stringify(p.allowedValues)}` };
    default:
      return { path: e.instancePath, rule: e.keyword, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

/** Every problem of `params` for `method`; empty when they are valid. Absent params count as `{}`. */
export function checkParams(method: RequestMethod, params: unknown): ParamProblem[] {
  const validate = validatorFor(method);
  if (validate(params === undefined || params === null ? {} : params)) return [];
  const seen = new Set<string>();
  const out: ParamProblem[] = [];
  for (const e of validate.errors ?? []) {
    const problem = describe(e);
    if (!seen.has(problem.message)) {
      seen.add(problem.message);
      out.push(problem);
    }
  }
  return out;
}

/** One error for a list of problems: the message lists them all (rule in brackets), `data.problems` holds them. */
export function problemsError(code: number, lead: string, problems: ParamProblem[]): ResponseError<MantaErrorData> {
  const list = problems.map((p) => `${p.message} [${p.rule}]`).join('; ');
  return new ResponseError<MantaErrorData>(code, `${lead}: ${list}`, { problems });
}

export function invalidParams(method: string, problems: ParamProblem[]): ResponseError<MantaErrorData> {
  return problemsError(MantaErrorCodes.InvalidParams, `invalid params for ${method}`, problems);
}
