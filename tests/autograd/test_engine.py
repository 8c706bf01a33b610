"""The backward engine against torch: accumulation, retain_graph, gradients of non-scalars,
autograd.grad, hooks, retain_grad, version counters, deep graphs."""

from __future__ import annotations

import numpy as np
import pytest
from scenario import assert_same

import lamina

SCENARIOS = {
    "leaves_accumulate": """
        x = m.tensor([1., 2.], requires_grad=True)
        (x * x).sum().backward(); (x * 3).sum().backward(); out = x.grad""",
    "shared_leaf_gets_sum": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2 + x.exp() * x; y.sum().backward(); out = x.grad""",
    "grad_object_reused": """
        x = m.tensor([1., 2.], requires_grad=True)
        (x * 2).sum().backward(); g1 = x.grad; (x * 2).sum().backward()
        out = (g1 is x.grad, x.grad)""",
    "second_backward_raises": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = (x * x).sum(); y.backward(); y.backward()""",
    "second_backward_without_saved_is_fine": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = (x + 1).sum(); y.backward(); y.backward(); out = x.grad""",
    "retain_graph": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = (x * x).sum(); y.backward(retain_graph=True); y.backward(); out = x.grad""",
    "nonscalar_needs_gradient": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.exp().backward()""",
    "backward_gradient": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.exp().backward(m.tensor([1., 0.5])); out = x.grad""",
    "backward_gradient_on_leaf": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.backward(m.tensor([1., 3.])); out = x.grad""",
    "backward_without_grad": """
        x = m.tensor([1., 2.])
        (x * 2).sum().backward()""",
    "backward_under_no_grad_output": """
        x = m.tensor([1., 2.], requires_grad=True)
        with m.no_grad():
            y = x * 2
        y.sum().backward()""",
    "backward_inputs": """
        x = m.tensor([1., 2.], requires_grad=True); w = m.tensor([1., 2.], requires_grad=True)
        (x * w).sum().backward(inputs=[x]); out = (x.grad, w.grad)""",
    "autograd_backward_many": """
        x = m.tensor([1., 2.], requires_grad=True)
        m.autograd.backward([(x * 2).sum(), (x * 3).sum()]); out = x.grad""",
    "autograd_backward_grad_tensors": """
        x = m.tensor([1., 2.], requires_grad=True)
        m.autograd.backward(x * 2, m.ones(2)); out = x.grad""",
    "grad_basic": """
        x = m.tensor([1., 2.], requires_grad=True)
        out = (m.autograd.grad((x * x).sum(), x), x.grad)""",
    "grad_unused_raises": """
        x = m.tensor([1., 2.], requires_grad=True); z = m.tensor([3.], requires_grad=True)
        m.autograd.grad((x * 2).sum(), [x, z])""",
    "grad_allow_unused": """
        x = m.tensor([1., 2.], requires_grad=True); z = m.tensor([3.], requires_grad=True)
        out = m.autograd.grad((x * 2).sum(), [x, z], allow_unused=True)""",
    "grad_materialize": """
        x = m.tensor([1., 2.], requires_grad=True); z = m.tensor([3.], requires_grad=True)
        out = m.autograd.grad((x * 2).sum(), [x, z], materialize_grads=True)""",
    "grad_of_nonleaf": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; out = m.autograd.grad((y * y).sum(), y)""",
    "grad_outputs": """
        x = m.tensor(3., requires_grad=True)
        out = m.autograd.grad(x * x, x, grad_outputs=m.tensor(2.))""",
    "grad_several_outputs": """
        x = m.tensor([1., 2.], requires_grad=True)
        out = m.autograd.grad([(x * 2).sum(), (x * 3).sum()], [x])""",
    "grad_result_is_own_memory": """
        x = m.tensor([1., 2.], requires_grad=True)
        g = m.autograd.grad((x * 2).sum(), x); g[0].add_(1); out = (g, x.grad)""",
    "grad_input_without_grad": """
        x = m.tensor([1., 2.]); y = m.tensor([1.], requires_grad=True)
        m.autograd.grad((y * 2).sum(), x)""",
    "grad_shape_mismatch": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.exp().backward(m.tensor([1., 0.5, 1.]))""",
    "leaf_hook_replaces_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g * 10); (x * 2).sum().backward(); out = x.grad""",
    "nonleaf_hook_replaces_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.register_hook(lambda g: g * 10); (y * y).sum().backward(); out = x.grad""",
    "hook_observes": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; seen = []; y.register_hook(lambda g: seen.append(g.clone()))
        (y * y).sum().backward(); out = seen""",
    "hook_removed": """
        x = m.tensor([1., 2.], requires_grad=True)
        h = x.register_hook(lambda g: g * 10); h.remove(); (x * 2).sum().backward()
        out = x.grad""",
    "hooks_chain": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.register_hook(lambda g: g + 1); x.register_hook(lambda g: g * 3)
        y = x * 2; y.register_hook(lambda g: g + 1); (y * 1).sum().backward(); out = x.grad""",
    "hook_on_no_grad_tensor": """
        x = m.tensor([1., 2.]); x.register_hook(lambda g: g)""",
    "retain_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.retain_grad(); (y * y).sum().backward()
        out = (y.grad, x.grad, y.is_leaf, y.retains_grad)""",
    "retain_grad_accumulates": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 2; y.retain_grad(); y.sum().backward(); (y * 2).sum().backward(); out = y.grad""",
    "retain_grad_on_leaf_is_noop": """
        x = m.tensor([1., 2.], requires_grad=True); out = x.retain_grad()""",
    "retain_grad_without_grad": """
        x = m.tensor([1., 2.]); x.retain_grad()""",
    "nonleaf_grad_is_none": """
        import warnings
        x = m.tensor([1., 2.], requires_grad=True); y = x * 2; y.sum().backward()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = y.grad""",
    "expand_backward_sums": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.unsqueeze(0).expand(3, 2).sum().backward(); out = x.grad""",
    "version_saved_input": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 1; z = y * y; y.add_(1); z.sum().backward()""",
    "version_saved_output": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x.exp(); y.add_(1); y.sum().backward()""",
    "version_names_current_producer": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x.sigmoid(); z = y * y; y.mul_(2); z.sum().backward()""",
    "version_leaf_under_no_grad": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * x
        with m.no_grad():
            x.mul_(2)
        y.sum().backward()""",
    "version_through_view": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * 1; z = y * y; y[0].zero_(); z.sum().backward()""",
    "version_through_detach": """
        x = m.tensor([1., 2.], requires_grad=True)
        z = x * x; x.detach().add_(1); z.sum().backward()""",
    "data_bypasses_versions": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = x * x; x.data.mul_(2); y.sum().backward(); out = x.grad""",
    "version_property": """
        x = m.tensor([1., 2.]); a = x._version; x.add_(1); x[0] = 3; v = x.view(2); v.mul_(2)
        out = (a, x._version, v._version)""",
    "grad_assign_wrong_shape": """
        x = m.tensor([1., 2.], requires_grad=True); x.grad = m.tensor([1., 2., 3.])""",
    "grad_assign_then_accumulate": """
        x = m.tensor([1., 2.], requires_grad=True)
        x.grad = m.tensor([1., 2.]); (x * 1).sum().backward(); out = x.grad""",
    "retain_grad_runs_after_hooks": """
        x = m.tensor([1., 2.], requires_grad=True); y = x * 2; y.retain_grad()
        y.register_hook(lambda g: g * 3); (y * 1).sum().backward(); out = (y.grad, x.grad)""",
    "retain_grad_through_view": """
        x = m.tensor([1., 2.], requires_grad=True); y = x * 2; z = y.view(2); z.retain_grad()
        (z * z).sum().backward(); out = z.grad""",
    "split_piece_without_grad": """
        a = m.tensor([1., 2.], requires_grad=True); b, c = a.split(1)
        (b * 3).sum().backward(); out = a.grad""",
    "unbind_one_piece": """
        a = m.tensor([1., 2., 3.], requires_grad=True); parts = a.unbind()
        (parts[1] * 3).backward(); out = a.grad""",
    "jacobian": """
        x = m.tensor([1., 2.], requires_grad=True)
        out = m.autograd.functional.jacobian(lambda t: t * t, x)""",
    "vjp": """
        x = m.tensor([1., 2.], requires_grad=True)
        out = m.autograd.functional.vjp(lambda t: (t * t).sum(), x)""",
    "leaf_hook_sees_the_sum_of_contributions": """
        x = m.tensor([1., 2.], requires_grad=True); seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        (x * 2 + x * 3 + x).sum().backward(); out = (seen, x.grad)""",
    "one_contribution_leaves_do_not_share_grad": """
        a = m.tensor([1., 2.], requires_grad=True); b = m.tensor([3., 4.], requires_grad=True)
        (a + b).sum().backward(); a.grad.add_(1); out = (a.grad, b.grad)""",
    "leaf_root_and_in_graph": """
        x = m.tensor([1., 2.], requires_grad=True)
        m.autograd.backward([x * 3, x], [m.ones(2), m.tensor([10., 20.])]); out = x.grad""",
    "create_graph_backward": """
        x = m.tensor([1., 2.], requires_grad=True)
        y = (x * x).sum(); y.backward(create_graph=False); out = x.grad""",
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_engine_matches_torch(name):
    assert_same(SCENARIOS[name])


def test_create_graph_raises_clear_error():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="create_graph=True"):
        y.backward(create_graph=True)
    with pytest.raises(RuntimeError, match="higher-order gradients"):
        lamina.autograd.grad(y, x, create_graph=True)


def test_deep_chain_has_no_recursion_limit():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0001 ** 5000] * 2, rtol=1e-3)


def test_deep_chain_in_autograd_grad():
    x = lamina.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y + x * 0.001
    (g,) = lamina.autograd.grad(y, x)
    assert abs(g.item() - 4.0) < 1e-3


def test_wide_graph_diamond():
    # many paths to one leaf: every contribution arrives before the leaf is finished
    x = lamina.tensor([2.0], requires_grad=True)
    parts = [x * float(k) for k in range(100)]
    total = parts[0]
    for p in parts[1:]:
        total = total + p
    total.sum().backward()
    assert x.grad.item() == sum(range(100))


def test_leaf_grad_is_a_fresh_array():
    # .grad must never alias an upstream buffer that the next backward might change
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    g = lamina.tensor([1.0, 1.0])
    x.backward(g)
    g.add_(5)
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])
    y = x.view(2)
    y.backward(lamina.tensor([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_grad_dtype_matches_leaf():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    x.double().sum().backward()
    assert x.grad.dtype == lamina.float32


def test_scalar_backward_seed_is_never_shared():
    # loss.backward() seeds from a cached ones array, copied per call: leaves that keep the
    # seed as their .grad must not alias it or each other
    a = lamina.tensor(1.0, requires_grad=True)
    b = lamina.tensor(2.0, requires_grad=True)
    a.backward()
    b.backward()
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.add_(5.0)
    a.backward()
    b.backward()
    assert a.grad.item() == 7.0 and b.grad.item() == 2.0
    c = lamina.ones(1, dtype=lamina.float64, requires_grad=True)
    (c * 3).backward()
    assert c.grad.dtype == lamina.float64 and c.grad.tolist() == [3.0]


def test_nodes_record_their_device_for_hooks(fake_cupy):
    import lamina

    # a graph on cuda:1 while the current device is cuda:0: the hooks' gradients are on
    # cuda:1 (rebuilding the device from CuPy's current device would say cuda:0)
    x = lamina.ones(3, device="cuda:1", requires_grad=True)
    y = x * 2
    assert y.grad_fn.device == lamina.device("cuda:1")
    seen = []
    y.register_hook(lambda g: seen.append(g.device))
    assert fake_cupy.cuda.Device().id == 0
    y.sum().backward()
    assert seen == [lamina.device("cuda:1")]
    assert x.grad.device == lamina.device("cuda:1")


# --- leaves accumulate eagerly; post-accumulate hooks; end-of-backward callbacks (issue 15) ---


def _events(lib):
    """A chain w -> h -> out where w's gradient is complete before x's node runs: the order
    of post-accumulate hooks and of a hook on a node run after w is finished."""
    ev = []
    w = lib.ones(3, requires_grad=True)
    x = lib.ones(3, requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda p: ev.append(("w", p.grad.tolist())))
    x.register_post_accumulate_grad_hook(lambda p: ev.append(("x", p.grad.tolist())))
    h = x * 2
    h.register_hook(lambda g: ev.append(("h", g.tolist())))
    out = (h.exp() * w).sum()
    return out, ev, w


def test_post_accumulate_hook_order_matches_torch():
    import torch

    import lamina

    got = []
    for lib in (lamina, torch):
        out, ev, w = _events(lib)
        out.backward()
        got.append([(k, [round(v, 4) for v in g]) for k, g in ev])
    assert got[0] == got[1]
    assert [k for k, _ in got[0]] == ["w", "h", "x"]  # w's .grad is final before h runs


def test_post_accumulate_hook_sees_accumulated_grad_and_removes():
    import lamina

    w = lamina.ones(2, requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 3).sum().backward()
    (w * 3).sum().backward()
    handle.remove()
    (w * 3).sum().backward()
    assert seen == [[3.0, 3.0], [6.0, 6.0]]
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on "
                                           "non-leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_queue_callback_runs_at_the_end_of_backward():
    import lamina
    from lamina.autograd import engine

    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during "
                                           "backward pass."):
        engine.queue_callback(lambda: None)
    w = lamina.ones(2, requires_grad=True)
    order = []

    def hook(p):
        order.append("hook")
        engine.queue_callback(lambda: order.append(("callback", w.grad.tolist())))
    w.register_post_accumulate_grad_hook(hook)
    (w * w).sum().backward()
    assert order == ["hook", ("callback", [2.0, 2.0])]
