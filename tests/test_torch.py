"""Parity with PyTorch in float64: the same weights give the same logits, loss, gradients and Adam step."""
import math, unittest
from tests.helpers import all_logits, mean_loss, model

try:
    import torch
except ImportError:
    torch = None

TOL = 1e-9


@unittest.skipIf(torch is None, 'PyTorch is not installed (pip install torch): parity test skipped')
class TestPyTorchParity(unittest.TestCase):
    def setUp(self):
        self.ns = model('--n-layer', 2, '--seed', 5)
        self.doc = next(doc for doc in self.ns.docs if len(doc) == 9)  # BOS + 9 characters + BOS: 10 predictions
        self.tokens = [self.ns.BOS] + self.ns.encode(self.doc) + [self.ns.BOS]
        self.weights = {name: torch.tensor([[p.data for p in row] for row in mat], dtype=torch.float64,
                                           requires_grad=True) for name, mat in self.ns.state_dict.items()}

    def torch_logits(self, inputs):
        """The same GPT, written the usual way with tensors: all positions at once, a causal mask."""
        W, ns = self.weights, self.ns
        T, C, n_head = len(inputs), ns.n_embd, ns.n_head
        head_dim = C // n_head
        rmsnorm = lambda x: x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        x = rmsnorm(W['wte'][inputs] + W['wpe'][:T])
        for i in range(ns.n_layer):
            residual, x = x, rmsnorm(x)
            q, k, v = (x @ W[f'layer{i}.attn_w{c}'].T for c in 'qkv')
            q, k, v = (t.view(T, n_head, head_dim).transpose(0, 1) for t in (q, k, v))  # (head, T, head_dim)
            att = (q @ k.transpose(1, 2) / math.sqrt(head_dim)).masked_fill(~causal, float('-inf')).softmax(-1)
            x = (att @ v).transpose(0, 1).reshape(T, C) @ W[f'layer{i}.attn_wo'].T + residual
            residual, x = x, rmsnorm(x)
            x = torch.relu(x @ W[f'layer{i}.mlp_fc1'].T) @ W[f'layer{i}.mlp_fc2'].T + residual
        return x @ W['lm_head'].T

    def test_logits_loss_gradients_and_adam_match(self):
        ns, W = self.ns, self.weights
        inputs, targets = torch.tensor(self.tokens[:-1]), torch.tensor(self.tokens[1:])
        self.assertEqual(len(inputs), 10)
        # logits at every position, microgpt one position at a time through its KV cache
        logits = self.torch_logits(inputs)
        for pos, ours in enumerate(all_logits(ns, self.doc)):
            self.assertLess(max(abs(a - b) for a, b in zip(ours, logits[pos].tolist())), TOL, f'position {pos}')
        # the loss, and the gradient of every parameter
        loss = mean_loss(ns, self.doc)
        torch_loss = torch.nn.functional.cross_entropy(logits, targets)
        self.assertAlmostEqual(loss.data, torch_loss.item(), delta=TOL)
        loss.backward()
        torch_loss.backward()
        for name, mat in ns.state_dict.items():
            ours = torch.tensor([[p.grad for p in row] for row in mat], dtype=torch.float64)
            self.assertLess((ours - W[name].grad).abs().max().item(), TOL, name)
        # two Adam steps with these gradients: microgpt's against torch.optim.Adam
        grads, initial = [p.grad for p in ns.params], [p.data for p in ns.params]
        optimizer = torch.optim.Adam(W.values(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
        for t in (1, 2):
            for p, g in zip(ns.params, grads):
                p.grad = g
            ns.adam_step(0.01, t)
            optimizer.step()
        for name, mat in ns.state_dict.items():
            ours = torch.tensor([[p.data for p in row] for row in mat], dtype=torch.float64)
            self.assertLess((ours - W[name].detach()).abs().max().item(), TOL, name)
        moved = max(abs(p.data - before) for p, before in zip(ns.params, initial))
        self.assertGreater(moved, 0.015)  # two steps of about lr each: the comparison was not of unmoved weights


if __name__ == '__main__':
    unittest.main()
