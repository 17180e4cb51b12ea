// One SGD step with momentum (PyTorch's semantics, as OFA trains) for one variable, in one pass:
//   g' = g + wd·w;  v' = m·v + g' (v' = g' on the first step);  d = nesterov ? g' + m·v' : v';  w' = w − lr·d.
// tfjs's optimizers spend four to eight full-size element-wise kernels (and their allocations) on this.
#include "common.h"

EXPORT(sgd_momentum)(const float* RESTRICT w, const float* RESTRICT g, const float* RESTRICT v, float* RESTRICT w_out,
                     float* RESTRICT v_out, int n, float lr, float momentum, float weight_decay, int nesterov) {
  const f4 vlr = splat(lr), vm = splat(momentum), vwd = splat(weight_decay);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const f4 wi = ld(w + i);
    const f4 gi = madd(ld(g + i), vwd, wi);
    const f4 vi = v ? madd(gi, vm, ld(v + i)) : gi;
    const f4 d = nesterov ? madd(gi, vm, vi) : vi;
    st(v_out + i, vi);
    st(w_out + i, sub(wi, mul(vlr, d)));
  }
  for (; i < n; i++) {
    const float gi = g[i] + weight_decay * w[i];
    const float vi = v ? momentum * v[i] + gi : gi;
    const float d = nesterov ? gi + momentum * vi : vi;
    v_out[i] = vi;
    w_out[i] = w[i] - lr * d;
  }
}
