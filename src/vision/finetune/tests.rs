//! Every layer's gradients and one whole inverted-residual block (with the
//! head, pooling, classifier and loss) against PyTorch 2.15 autograd. The
//! inputs are integer patterns scaled by powers of two, exact in f32 on both
//! sides; each gradient is compared by three figures: its sum, its sum
//! weighted by the pattern q_i = ((7i mod 13) − 6) / 8, and its largest
//! magnitude (all in PyTorch's NCHW / OIHW order).
//!
//! The snippet that produced the figures (`/work/venv-ref`, torch 2.15.0,
//! torchvision 0.29.2):
//!
//! ```python
//! # PyTorch autograd references for src/vision/finetune/grad.rs tests.
//! # Inputs are integer patterns scaled by powers of two, exact in f32 on both sides.
//! import torch
//! torch.set_default_dtype(torch.float32)
//! def pat(shape, a, m, div=16.0, off=0):
//!     n = 1
//!     for s in shape: n *= s
//!     return torch.tensor([(((i + off) * a) % m - m // 2) / div for i in range(n)], dtype=torch.float32).reshape(shape)
//! def sums(name, g):
//!     g = g.detach().reshape(-1).double()
//!     q = torch.tensor([((i * 7) % 13 - 6) / 8 for i in range(g.numel())], dtype=torch.float64)
//!     print(f'("{name}", {g.numel()}, {g.sum().item():.9e}, {(g*q).sum().item():.9e}, {g.abs().max().item():.9e}),')
//! torch.manual_seed(0)
//! x = pat((2, 6, 5, 4), 37, 101); r = pat((2, 5, 5, 4), 11, 23, off=3)
//! x.requires_grad_(); w = pat((5, 6, 1, 1), 13, 29).requires_grad_()
//! (torch.nn.functional.conv2d(x, w) * r).sum().backward()
//! print("// pointwise"); sums("dx", x.grad); sums("dw", w.grad)
//! for stride in (1, 2):
//!     x = pat((2, 6, 5, 4), 37, 101).requires_grad_(); w = pat((6, 1, 3, 3), 13, 29).requires_grad_()
//!     y = torch.nn.functional.conv2d(x, w, stride=stride, padding=1, groups=6)
//!     (y * pat(tuple(y.shape), 11, 23, off=3)).sum().backward()
//!     print(f"// depthwise stride {stride}"); sums("dx", x.grad); sums("dw", w.grad)
//! x = pat((2, 3, 7, 6), 37, 101); w = pat((4, 3, 3, 3), 13, 29).requires_grad_()
//! y = torch.nn.functional.conv2d(x, w, stride=2, padding=1)
//! (y * pat(tuple(y.shape), 11, 23, off=3)).sum().backward()
//! print("// dense 3x3 stride 2"); sums("dw", w.grad)
//! for train in (False, True):
//!     bn = torch.nn.BatchNorm2d(6)
//!     with torch.no_grad():
//!         bn.weight.copy_(pat((6,), 5, 7, 4) + 1); bn.bias.copy_(pat((6,), 3, 5, 8))
//!         bn.running_mean.copy_(pat((6,), 7, 11, 8)); bn.running_var.copy_(pat((6,), 5, 9, 8).abs() + 0.5)
//!     bn.train(train)
//!     x = pat((2, 6, 5, 4), 37, 101).requires_grad_()
//!     (bn(x) * pat((2, 6, 5, 4), 11, 23, off=3)).sum().backward()
//!     print(f"// batch norm train={train}"); sums("dx", x.grad); sums("dgamma", bn.weight.grad); sums("dbeta", bn.bias.grad)
//!     sums("running_mean", bn.running_mean); sums("running_var", bn.running_var)
//! x = pat((2, 6, 5, 4), 37, 101, div=8).requires_grad_()
//! (torch.nn.functional.relu6(x) * pat((2, 6, 5, 4), 11, 23, off=3)).sum().backward()
//! print("// relu6"); sums("dx", x.grad)
//! x = pat((3, 8), 37, 101).requires_grad_(); w = pat((5, 8), 13, 29).requires_grad_(); b = pat((5,), 3, 7).requires_grad_()
//! (torch.nn.functional.linear(x, w, b) * pat((3, 5), 11, 23, off=3)).sum().backward()
//! print("// linear"); sums("dx", x.grad); sums("dw", w.grad); sums("db", b.grad)
//! # One inverted residual block (t = 6, 4 -> 4 channels, stride 1, residual), then
//! # the head: 1x1 to 8 channels, BN, ReLU6, global average pool, linear to 3, BCE.
//! from torchvision.models.mobilenetv2 import InvertedResidual
//! for train in (False, True):
//!     blk = InvertedResidual(4, 4, 1, 6)
//!     head = torch.nn.Sequential(torch.nn.Conv2d(4, 8, 1, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU6())
//!     lin = torch.nn.Linear(8, 3)
//!     convs = [m for m in list(blk.modules()) + list(head.modules()) if isinstance(m, torch.nn.Conv2d)]
//!     bns = [m for m in list(blk.modules()) + list(head.modules()) if isinstance(m, torch.nn.BatchNorm2d)]
//!     with torch.no_grad():
//!         for k, c in enumerate(convs):
//!             c.weight.copy_(pat(tuple(c.weight.shape), 13 + 2 * k, 29, div=32))
//!         for k, b in enumerate(bns):
//!             n = b.num_features
//!             b.weight.copy_(pat((n,), 5 + k, 7, 8) + 1); b.bias.copy_(pat((n,), 3, 5 + 2 * k, 16))
//!             b.running_mean.copy_(pat((n,), 7, 11 + k, 16)); b.running_var.copy_(pat((n,), 5, 9, 8).abs() + 0.5)
//!         lin.weight.copy_(pat((3, 8), 13, 29, div=8)); lin.bias.copy_(pat((3,), 3, 7, 8))
//!     for m in (blk, head): m.train(train)
//!     x = pat((2, 4, 5, 5), 37, 101, div=8).requires_grad_()
//!     z = lin(head(blk(x)).mean(dim=(2, 3)))
//!     y = pat((2, 3), 1, 2, div=1) + 1
//!     y = (torch.arange(6).reshape(2, 3) % 2).float()
//!     loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)
//!     loss.backward()
//!     print(f"// block + head train={train}: loss {loss.item():.9e}")
//!     sums("dx", x.grad)
//!     for k, c in enumerate(convs): sums(f"conv{k}", c.weight.grad)
//!     for k, b in enumerate(bns): sums(f"gamma{k}", b.weight.grad); sums(f"beta{k}", b.bias.grad)
//!     sums("lin_w", lin.weight.grad); sums("lin_b", lin.bias.grad)
//! ```

use super::grad::{self, Conv, Norm, NormParams};
use super::net::{BLOCKS, Network};
use crate::vision::layers::Maps;

/// `pat` of the snippet: ((i + off)·a mod m − ⌊m/2⌋) / div.
fn pat(n: usize, a: usize, m: usize, div: f32, off: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (((i + off) * a) % m) as f32 - (m / 2) as f32)
        .map(|v| v / div)
        .collect()
}

/// An NCHW pattern as channels-last maps.
fn maps(shape: [usize; 4], a: usize, m: usize, div: f32, off: usize) -> Maps {
    let [n, c, h, w] = shape;
    Maps::from_nchw(&pat(n * c * h * w, a, m, div, off), n, c, h, w)
}

/// Sum, q-weighted sum and largest magnitude of `g` (NCHW / OIHW order).
fn figures(g: &[f32]) -> (f64, f64, f64) {
    let mut out = (0.0, 0.0, 0.0f64);
    for (i, v) in g.iter().enumerate() {
        let v = f64::from(*v);
        out.0 += v;
        out.1 += v * (((i * 7) % 13) as f64 - 6.0) / 8.0;
        out.2 = out.2.max(v.abs());
    }
    out
}

/// `g` agrees with PyTorch's figures to float tolerance (relative to the
/// gradient's scale, since sums of large gradients may cancel to ~0).
fn check(what: &str, g: &[f32], expected: (&str, usize, f64, f64, f64)) {
    let (name, n, sum, weighted, max) = expected;
    assert_eq!(g.len(), n, "{what} {name}: size");
    let (s, w, m) = figures(g);
    let tol = 2e-5 * max.max(1e-3) * (n as f64).sqrt() + 1e-9;
    for (label, got, want) in [
        ("sum", s, sum),
        ("weighted sum", w, weighted),
        ("max", m, max),
    ] {
        assert!(
            (got - want).abs() <= tol + 1e-5 * want.abs(),
            "{what} {name} {label}: {got:e} against PyTorch's {want:e}"
        );
    }
}

fn nchw(m: &Maps) -> Vec<f32> {
    m.flatten_chw().into_raw_vec_and_offset().0
}

#[test]
fn pointwise_and_depthwise_convolutions_match_pytorch() {
    let x = maps([2, 6, 5, 4], 37, 101, 16.0, 0);
    let w = pat(30, 13, 29, 16.0, 0);
    let wc = grad::to_compute(Conv::Pointwise, &w, 6, 5);
    let r = maps([2, 5, 5, 4], 11, 23, 16.0, 3);
    let mut dw = vec![0.0; 30];
    let dx = grad::conv_backward(Conv::Pointwise, &x, &r, &wc, &mut dw, true).unwrap();
    check(
        "pointwise",
        &nchw(&dx),
        (
            "dx",
            240,
            -1.195312500e+00,
            5.151367188e-01,
            1.019531250e+00,
        ),
    );
    check(
        "pointwise",
        &grad::to_torch(Conv::Pointwise, &dw, 6, 5),
        ("dw", 30, -1.314843750e+01, 2.049316406e+00, 7.441406250e+00),
    );
    let expected = [
        (
            (
                "dx",
                240,
                -1.351562500e+00,
                3.340332031e+00,
                1.765625000e+00,
            ),
            ("dw", 54, 3.183593750e+00, 5.577636719e+00, 7.074218750e+00),
        ),
        (
            (
                "dx",
                240,
                -1.261718750e+00,
                2.088378906e+00,
                8.437500000e-01,
            ),
            ("dw", 54, 4.804687500e+00, -1.988916016e+01, 7.886718750e+00),
        ),
    ];
    for (stride, (edx, edw)) in [1, 2].into_iter().zip(expected) {
        let conv = Conv::Depthwise { stride };
        let w = grad::to_compute(conv, &pat(54, 13, 29, 16.0, 0), 6, 6);
        let y = grad::conv_forward(conv, &x, &w, 6);
        let r = maps([2, 6, y.h, y.w], 11, 23, 16.0, 3);
        let mut dw = vec![0.0; 54];
        let dx = grad::conv_backward(conv, &x, &r, &w, &mut dw, true).unwrap();
        check(&format!("depthwise stride {stride}"), &nchw(&dx), edx);
        check(
            &format!("depthwise stride {stride}"),
            &grad::to_torch(conv, &dw, 6, 6),
            edw,
        );
    }
    let conv = Conv::Dense { stride: 2 };
    let x = maps([2, 3, 7, 6], 37, 101, 16.0, 0);
    let w = grad::to_compute(conv, &pat(108, 13, 29, 16.0, 0), 3, 4);
    let y = grad::conv_forward(conv, &x, &w, 4);
    assert_eq!((y.h, y.w), (4, 3));
    let r = maps([2, 4, 4, 3], 11, 23, 16.0, 3);
    let mut dw = vec![0.0; 108];
    assert!(grad::conv_backward(conv, &x, &r, &w, &mut dw, false).is_none());
    check(
        "dense 3x3 stride 2",
        &grad::to_torch(conv, &dw, 3, 4),
        (
            "dw",
            108,
            -3.949218750e+00,
            -1.770654297e+01,
            5.539062500e+00,
        ),
    );
}

#[test]
fn batch_norm_relu6_and_linear_match_pytorch() {
    type Row = (&'static str, usize, f64, f64, f64);
    let cases: [(Norm, [Row; 5]); 2] = [
        (
            Norm::Frozen,
            [
                (
                    "dx",
                    240,
                    1.047934156e+00,
                    -9.726296266e+00,
                    1.389239907e+00,
                ),
                (
                    "dgamma",
                    6,
                    2.049151480e+00,
                    3.353683785e+00,
                    2.881393909e+00,
                ),
                (
                    "dbeta",
                    6,
                    1.562500000e+00,
                    -8.750000000e-01,
                    1.500000000e+00,
                ),
                (
                    "running_mean",
                    6,
                    -2.500000000e-01,
                    6.093750000e-01,
                    6.250000000e-01,
                ),
                (
                    "running_var",
                    6,
                    4.875000000e+00,
                    -1.078125000e+00,
                    1.000000000e+00,
                ),
            ],
        ),
        (
            Norm::Batch,
            [
                (
                    "dx",
                    240,
                    -3.275927156e-07,
                    -4.281843349e+00,
                    6.766353846e-01,
                ),
                (
                    "dgamma",
                    6,
                    1.085769072e+00,
                    1.790132860e+00,
                    1.544958949e+00,
                ),
                (
                    "dbeta",
                    6,
                    1.562500000e+00,
                    -8.750000000e-01,
                    1.500000000e+00,
                ),
                (
                    "running_mean",
                    6,
                    -2.293749750e-01,
                    5.547461137e-01,
                    5.754687786e-01,
                ),
                (
                    "running_var",
                    6,
                    6.426426589e+00,
                    -1.358484916e+00,
                    1.265103102e+00,
                ),
            ],
        ),
    ];
    for (mode, [edx, eg, eb, em, ev]) in cases {
        let gamma: Vec<f32> = pat(6, 5, 7, 4.0, 0).iter().map(|v| v + 1.0).collect();
        let beta = pat(6, 3, 5, 8.0, 0);
        let mut mean = pat(6, 7, 11, 8.0, 0);
        let mut var: Vec<f32> = pat(6, 5, 9, 8.0, 0).iter().map(|v| v.abs() + 0.5).collect();
        let mut z = maps([2, 6, 5, 4], 37, 101, 16.0, 0);
        let p = NormParams {
            gamma: &gamma,
            beta: &beta,
            mean: &mut mean,
            var: &mut var,
        };
        let tape = grad::norm_forward(&mut z, p, mode, true).unwrap();
        let mut d = maps([2, 6, 5, 4], 11, 23, 16.0, 3);
        let (mut dg, mut db) = (vec![0.0; 6], vec![0.0; 6]);
        grad::norm_backward(&mut d, &tape, &gamma, mode, &mut dg, &mut db);
        let what = format!("batch norm {mode:?}");
        check(&what, &nchw(&d), edx);
        check(&what, &dg, eg);
        check(&what, &db, eb);
        check(&what, &mean, em);
        check(&what, &var, ev);
    }
    let mut y = maps([2, 6, 5, 4], 37, 101, 8.0, 0);
    grad::relu6(&mut y);
    let mut d = maps([2, 6, 5, 4], 11, 23, 16.0, 3);
    grad::relu6_backward(&mut d, &y);
    check(
        "relu6",
        &nchw(&d),
        ("dx", 240, 1.562500000e+00, 5.546875000e-01, 6.875000000e-01),
    );
    let (x, w, b) = (
        pat(24, 37, 101, 16.0, 0),
        pat(40, 13, 29, 16.0, 0),
        pat(5, 3, 7, 16.0, 0),
    );
    let r = pat(15, 11, 23, 16.0, 3);
    assert_eq!(grad::linear_forward(&x, 3, &w, &b).len(), 15);
    let (mut dw, mut db) = (vec![0.0; 40], vec![0.0; 5]);
    let dx = grad::linear_backward(&x, &r, &w, &mut dw, &mut db);
    check(
        "linear",
        &dx,
        ("dx", 24, 5.156250000e-01, 1.436035156e+00, 9.804687500e-01),
    );
    check(
        "linear",
        &dw,
        (
            "dw",
            40,
            -5.714843750e+00,
            -3.862304688e+00,
            2.414062500e+00,
        ),
    );
    check(
        "linear",
        &db,
        ("db", 5, 8.125000000e-01, 3.984375000e-01, 6.875000000e-01),
    );
}

/// torchvision's `InvertedResidual(4, 4, 1, 6)`, then a 1 × 1 head to 8
/// channels, pooling, a linear layer to 3 and the loss, trained end to end.
#[test]
fn an_inverted_residual_block_with_head_matches_pytorch() {
    type Row = (&'static str, usize, f64, f64, f64);
    let frozen: [Row; 15] = [
        (
            "dx",
            200,
            -4.529151355e-02,
            -1.449082902e-02,
            1.186084747e-02,
        ),
        (
            "conv0",
            96,
            -4.953899261e-02,
            1.095708061e-01,
            6.605559587e-02,
        ),
        (
            "conv1",
            216,
            -2.722580089e-01,
            6.241986938e-02,
            6.893309951e-02,
        ),
        (
            "conv2",
            96,
            -4.469289021e-01,
            9.065670941e-02,
            1.035175622e-01,
        ),
        (
            "conv3",
            32,
            -5.360997412e-01,
            2.680195938e-01,
            2.312800288e-01,
        ),
        (
            "gamma0",
            24,
            -1.877508770e-02,
            1.042004203e-02,
            3.614397720e-02,
        ),
        (
            "beta0",
            24,
            -8.238252361e-03,
            1.549910779e-03,
            1.214366779e-02,
        ),
        (
            "gamma1",
            24,
            -1.330619424e-02,
            9.629471661e-03,
            2.777873725e-02,
        ),
        (
            "beta1",
            24,
            -3.102662973e-03,
            2.790871105e-03,
            1.676212996e-02,
        ),
        (
            "gamma2",
            4,
            -5.174397677e-02,
            -1.650617324e-02,
            3.309104592e-02,
        ),
        (
            "beta2",
            4,
            -4.644792154e-02,
            -1.361718168e-02,
            6.976831704e-02,
        ),
        (
            "gamma3",
            8,
            1.461374015e-02,
            1.266224133e-01,
            1.704360396e-01,
        ),
        (
            "beta3",
            8,
            4.006985575e-02,
            7.457787637e-02,
            1.202163845e-01,
        ),
        (
            "lin_w",
            24,
            1.191976234e+00,
            4.733002686e-02,
            1.275372952e-01,
        ),
        (
            "lin_b",
            3,
            1.671937853e-01,
            -4.485417716e-02,
            9.305864573e-02,
        ),
    ];
    let batch: [Row; 15] = [
        ("dx", 200, 8.905772120e-09, 1.923022785e-02, 6.634627469e-03),
        (
            "conv0",
            96,
            -5.659220507e-03,
            -6.162331014e-03,
            1.537216827e-02,
        ),
        (
            "conv1",
            216,
            6.016515997e-03,
            4.459549870e-02,
            3.159282357e-02,
        ),
        (
            "conv2",
            96,
            6.831344170e-02,
            -4.125332518e-03,
            1.533024386e-02,
        ),
        (
            "conv3",
            32,
            7.099954784e-02,
            5.628917227e-02,
            7.557066530e-02,
        ),
        (
            "gamma0",
            24,
            9.610371992e-04,
            -3.603515444e-04,
            5.551661598e-04,
        ),
        (
            "beta0",
            24,
            9.813389406e-03,
            -2.258090673e-03,
            2.967235632e-03,
        ),
        (
            "gamma1",
            24,
            -1.449409254e-03,
            6.698911666e-04,
            2.984081162e-03,
        ),
        (
            "beta1",
            24,
            -6.212019682e-03,
            -5.476291699e-05,
            4.588328302e-03,
        ),
        (
            "gamma2",
            4,
            -2.322182426e-02,
            7.134582265e-03,
            1.534317248e-02,
        ),
        (
            "beta2",
            4,
            3.725290298e-09,
            0.000000000e+00,
            7.450580597e-09,
        ),
        (
            "gamma3",
            8,
            8.535203221e-02,
            7.084633232e-02,
            6.391524523e-02,
        ),
        (
            "beta3",
            8,
            1.434276141e-01,
            1.121836896e-01,
            1.001768634e-01,
        ),
        (
            "lin_w",
            24,
            2.511829031e-01,
            -1.824526465e-03,
            4.484481737e-02,
        ),
        (
            "lin_b",
            3,
            8.174372092e-02,
            1.969804475e-02,
            8.532547951e-02,
        ),
    ];
    for (mode, expected, loss_expected) in [
        (Norm::Frozen, frozen, 7.966103554e-01),
        (Norm::Batch, batch, 7.766032815e-01),
    ] {
        let specs = [
            (Conv::Pointwise, 4, 24, true, 1, None),
            (Conv::Depthwise { stride: 1 }, 24, 24, true, 1, None),
            (Conv::Pointwise, 24, 4, false, 1, Some(0)),
            (Conv::Pointwise, 4, 8, true, 2, None),
        ];
        let layers = specs
            .into_iter()
            .enumerate()
            .map(|(k, (conv, cin, cout, relu6, block, residual))| {
                let n = conv.torch_shape(cin, cout).iter().product();
                let bn = [
                    pat(cout, 5 + k, 7, 8.0, 0)
                        .iter()
                        .map(|v| v + 1.0)
                        .collect(),
                    pat(cout, 3, 5 + 2 * k, 16.0, 0),
                    pat(cout, 7, 11 + k, 16.0, 0),
                    pat(cout, 5, 9, 8.0, 0)
                        .iter()
                        .map(|v| v.abs() + 0.5)
                        .collect(),
                ];
                (
                    conv,
                    cin,
                    cout,
                    relu6,
                    block,
                    residual,
                    pat(n, 13 + 2 * k, 29, 32.0, 0),
                    bn,
                )
            })
            .collect();
        let mut net = Network::custom(layers, (pat(24, 13, 29, 8.0, 0), pat(3, 3, 7, 8.0, 0)));
        let x = maps([2, 4, 5, 5], 37, 101, 8.0, 0);
        let (logits, tape) = net.forward(x, BLOCKS, mode, None, true);
        let labels: Vec<f32> = (0..6).map(|i| (i % 2) as f32).collect();
        let (loss, dlogits) = grad::bce_with_logits(&logits, &labels);
        assert!(
            (loss - loss_expected).abs() < 1e-6,
            "{mode:?} loss {loss} against PyTorch's {loss_expected}"
        );
        let mut grads: Vec<Vec<f32>> = net.params.iter().map(|p| vec![0.0; p.data.len()]).collect();
        let dx = net
            .backward(tape.unwrap(), &dlogits, mode, &mut grads, true)
            .unwrap();
        let what = format!("block + head, batch norm {mode:?}");
        check(&what, &nchw(&dx), expected[0]);
        let convs = [
            (Conv::Pointwise, 4, 24),
            (Conv::Depthwise { stride: 1 }, 24, 24),
            (Conv::Pointwise, 24, 4),
            (Conv::Pointwise, 4, 8),
        ];
        for (k, (conv, cin, cout)) in convs.into_iter().enumerate() {
            check(
                &what,
                &grad::to_torch(conv, &grads[5 * k], cin, cout),
                expected[1 + k],
            );
            check(&what, &grads[5 * k + 1], expected[5 + 2 * k]);
            check(&what, &grads[5 * k + 2], expected[6 + 2 * k]);
        }
        check(&what, &grads[20], expected[13]);
        check(&what, &grads[21], expected[14]);
    }
}

#[test]
fn weight_layouts_round_trip() {
    for (conv, cin, cout) in [
        (Conv::Pointwise, 3, 5),
        (Conv::Depthwise { stride: 2 }, 4, 4),
        (Conv::Dense { stride: 2 }, 3, 4),
    ] {
        let n: usize = conv.torch_shape(cin, cout).iter().product();
        let torch: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let compute = grad::to_compute(conv, &torch, cin, cout);
        assert_ne!(compute, torch, "{conv:?} is a different layout");
        assert_eq!(grad::to_torch(conv, &compute, cin, cout), torch, "{conv:?}");
    }
}
