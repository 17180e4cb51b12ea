// Stand-alone activations (h-swish and h-sigmoid outside batch norm: squeeze-excite, the feature-mix layer) as one
// pass each way instead of tfjs's chain of add, relu6, mul and div.
#include "activation.h"

static inline void forward(const float* RESTRICT x, float* RESTRICT y, int n, int act) {
  int i = 0;
  for (; i + 4 <= n; i += 4) st(y + i, act4(ld(x + i), act));
  for (; i < n; i++) y[i] = act1(x[i], act);
}

static inline void backward(const float* RESTRICT dy, const float* RESTRICT x, float* RESTRICT dx, int n, int act) {
  int i = 0;
  for (; i + 4 <= n; i += 4) st(dx + i, act_grad4(ld(dy + i), ld(x + i), act));
  for (; i < n; i++) dx[i] = act_grad1(dy[i], x[i], act);
}

// The switch sits outside the loops so each activation gets its own specialised loop.
EXPORT(activation_forward)(const float* x, float* y, int n, int act) {
  switch (act) {
    case ACT_RELU: forward(x, y, n, ACT_RELU); break;
    case ACT_RELU6: forward(x, y, n, ACT_RELU6); break;
    case ACT_HSWISH: forward(x, y, n, ACT_HSWISH); break;
    case ACT_HSIGMOID: forward(x, y, n, ACT_HSIGMOID); break;
    default: forward(x, y, n, ACT_LINEAR); break;
  }
}

EXPORT(activation_backward)(const float* dy, const float* x, float* dx, int n, int act) {
  switch (act) {
    case ACT_RELU: backward(dy, x, dx, n, ACT_RELU); break;
    case ACT_RELU6: backward(dy, x, dx, n, ACT_RELU6); break;
    case ACT_HSWISH: backward(dy, x, dx, n, ACT_HSWISH); break;
    case ACT_HSIGMOID: backward(dy, x, dx, n, ACT_HSIGMOID); break;
    default: backward(dy, x, dx, n, ACT_LINEAR); break;
  }
}

// y[r, c] = act(y[r, c] + bias[c % bias_len]) in place (bias 0: none): the epilogue of a fused matMul.
EXPORT(bias_activation)(float* y, int rows, int cols, const float* bias, int bias_len, int act) {
  for (int r = 0; r < rows; r++) {
    float* row = y + r * cols;
    if (bias && bias_len == cols) {
      int c = 0;
      for (; c + 4 <= cols; c += 4) st(row + c, act4(add(ld(row + c), ld(bias + c)), act));
      for (; c < cols; c++) row[c] = act1(row[c] + bias[c], act);
    } else {
      const float b = bias ? bias[0] : 0.0f;
      int c = 0;
      for (; c + 4 <= cols; c += 4) st(row + c, act4(add(ld(row + c), splat(b)), act));
      for (; c < cols; c++) row[c] = act1(row[c] + b, act);
    }
  }
}
