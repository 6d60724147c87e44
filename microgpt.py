"""microgpt: the whole algorithm of a GPT language model in one file of plain Python, with no dependencies.
It reads a list of names, learns to spell names like them, and makes up new ones.
Run `python microgpt.py` (add --help to see the knobs), or paste the whole file into one notebook cell."""
import argparse, json, math, operator, os, random, sys, time

# Configuration: each knob, its default and what it means; each is a flag too (--n-embd 32). In a notebook, edit here.
HERE = os.path.dirname(os.path.abspath(__file__)) if '__file__' in globals() else ''  # a notebook cell has no file
CONFIG = [
    ('input', os.path.join(HERE, 'names.txt'), 'the data: a UTF-8 text file, one document per line'),
    ('steps', 1000, 'training steps, one document each; with --load the default is 0: only sample'),
    ('n_layer', 1, 'number of transformer blocks'),
    ('n_embd', 16, 'width of every token vector; a multiple of --n-head'),
    ('n_head', 4, 'attention heads per block'),
    ('block_size', 16, 'the longest context, in tokens; longer documents are cut'),
    ('lr', 0.01, 'learning rate of the first step; it decays linearly to 0'),
    ('seed', 42, 'seed of the data order, the initial weights and the samples'),
    ('samples', 20, 'how many samples to print after training'),
    ('temperature', 0.5, 'sampling temperature, above 0: lower is safer, higher is wilder'),
    ('prefix', '', 'text that every sample starts with'),
    ('save', '', 'write the trained model to this JSON file'),
    ('load', '', 'start from a model written by --save; it brings its own sizes and vocabulary'),
]
SIZES = ('n_layer', 'n_embd', 'n_head', 'block_size')  # the shape of a model, fixed once it is trained
flag = lambda name: '--' + name.replace('_', '-')  # n_embd -> --n-embd
def fail(message): sys.exit(f'microgpt: error: {message}')  # for bad input: one line, exit status 1, no traceback

def read(path, what):  # the text of a file, or a clean error that says why it cannot be read
    try:
        with open(path, encoding='utf-8-sig') as f:  # utf-8-sig: a byte-order mark at the start is not text
            return f.read()
    except OSError as e:
        fail(f'cannot read {what} {path}: {e.strerror}')
    except UnicodeDecodeError:
        fail(f'{what} {path} is not UTF-8 text; convert it, or pick another file')

parser = argparse.ArgumentParser(description='Train a tiny GPT on a text file of short documents, then sample.')
parser.error = lambda message: fail(f'{message} (see --help)')
for name, default, meaning in CONFIG:
    parser.add_argument(flag(name), type=type(default), help=f'{meaning} ({default!r})')
argv = sys.argv[1:] if '__file__' in globals() else []  # in a notebook, sys.argv is the kernel's, not ours
given = {name: value for name, value in vars(parser.parse_args(argv)).items() if value is not None}
cfg = {name: given.get(name, default) for name, default, _ in CONFIG}
if cfg['load']:  # a model written by --save brings its own sizes and vocabulary
    try:
        saved = json.loads(read(cfg['load'], '--load'))
        saved = {'config': {k: int(saved['config'][k]) for k in SIZES}, 'chars': [str(c) for c in saved['chars']],
                 'state_dict': {k: [[float(x) for x in row] for row in mat] for k, mat in saved['state_dict'].items()}}
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(f"--load {cfg['load']} is not a model written by --save")
    if any(given.get(k, saved['config'][k]) != saved['config'][k] for k in SIZES):
        fail(f"the size flags contradict the model in {cfg['load']}: {saved['config']}; drop them, it has its own")
    cfg.update(saved['config'], steps=given.get('steps', 0))
for name in SIZES + ('temperature',):
    if not cfg[name] > 0: fail(f'{flag(name)} must be above 0, not {cfg[name]}')
for name in ('steps', 'samples'):
    if cfg[name] < 0: fail(f'{flag(name)} cannot be negative ({cfg[name]})')
if cfg['n_embd'] % cfg['n_head']:
    fail(f"--n-embd {cfg['n_embd']} must be a multiple of --n-head {cfg['n_head']}: each head takes an equal slice")
save_dir = os.path.dirname(os.path.abspath(cfg['save']))  # checked now, so that no training is lost at the end
if cfg['save'] and (os.path.isdir(cfg['save']) or not os.access(save_dir, os.W_OK)
                    or os.path.realpath(cfg['save']) == os.path.realpath(cfg['input'])):
    fail(f"cannot --save to {cfg['save']}: name a file in an existing, writable directory, not the --input data")
n_layer, n_embd, n_head, block_size = (cfg[name] for name in SIZES)
random.seed(cfg['seed'])

# Data: one document per line, shuffled; a slice is held out to measure how well the model generalizes
docs = [line.strip() for line in read(cfg['input'], '--input').split('\n') if line.strip()]  # strip() drops \r too
if not docs:
    fail(f"--input {cfg['input']} has no non-blank line; it needs one document per line")
random.shuffle(docs)
n_val = min(len(docs) // 10, 500)  # 10%, at most 500 documents, so that evaluating them stays quick
val_docs, train_docs = docs[:n_val], docs[n_val:]
print(f'documents: {len(train_docs)} train, {len(val_docs)} val')

# Tokenizer: one token per distinct character, plus BOS, a token that begins and ends every document
chars = saved['chars'] if cfg['load'] else sorted(set(''.join(docs)))
BOS = len(chars)  # the id of the begin/end-of-document token
vocab_size = len(chars) + 1
unknown = sorted(set(''.join(docs + [cfg['prefix']])) - set(chars))
if unknown:
    fail(f"characters {''.join(unknown)!r} are not in the model's vocabulary; remove them from the data or --prefix")
if len(cfg['prefix']) >= block_size:
    fail(f'--prefix is {len(cfg["prefix"])} characters; with --block-size {block_size} it must be shorter')
encode = lambda text: [chars.index(ch) for ch in text]  # a character's token id is its place in chars
decode = lambda ids: ''.join(chars[i] for i in ids)
n_cut = sum(len(doc) + 1 > block_size for doc in train_docs)  # a document of L characters is L+1 predictions
print(f'vocabulary: {vocab_size} tokens ({len(chars)} characters and BOS); {n_cut} documents cut to --block-size')

# Autograd: every number in the model is a Value that remembers how it was computed, so it can pass gradients back
class Value:
    __slots__ = ('data', 'grad', '_children', '_local_grads')  # no per-object dict: less memory, faster
    def __init__(self, data, children=(), local_grads=()):
        self.data = data                # the number this node holds
        self.grad = 0.0                 # d(loss)/d(this node), filled in by backward()
        self._children = children       # the nodes this one was computed from
        self._local_grads = local_grads # d(this node)/d(each child), known as soon as the node is computed

    # each operation: the forward value, then the derivative of the result with respect to each input
    def __add__(self, other):
        if isinstance(other, Value): return Value(self.data + other.data, (self, other), (1.0, 1.0))
        return Value(self.data + other, (self,), (1.0,))  # a plain number is a constant, not a node
    def __mul__(self, other):
        if isinstance(other, Value): return Value(self.data * other.data, (self, other), (other.data, self.data))
        return Value(self.data * other, (self,), (other,))
    def __pow__(self, k): return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))  # k: a number
    def log(self): return Value(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): e = math.exp(self.data); return Value(e, (self,), (e,))
    def relu(self): return Value(max(0.0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1.0
    def __radd__(self, other): return self + other
    def __sub__(self, other): return self + (-other)
    def __rsub__(self, other): return (-self) + other
    def __rmul__(self, other): return self * other
    def __truediv__(self, other): return self * other ** -1
    def __rtruediv__(self, other): return self ** -1 * other

    def backward(self):
        # Topological order (every node after its children) by depth-first search on a stack of our own: no depth limit
        topo, visited, stack = [], {self}, [(self, iter(self._children))]
        while stack:
            node, children = stack[-1]
            for child in children:
                if child._children and child not in visited:  # a leaf has no one to pass its gradient to
                    visited.add(child)
                    stack.append((child, iter(child._children)))
                    break  # go deeper first; this node's remaining children wait in its iterator
            else:  # every child is done, so the node is too
                stack.pop()
                topo.append(node)
        # Chain rule, from the loss back to the leaves: d(loss)/d(child) += d(node)/d(child) * d(loss)/d(node)
        self.grad = 1.0
        for node in reversed(topo):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad

# A node may have many children: a whole sum or dot product is one node, not a chain of n binary ones (much faster)
def vsum(xs):  # sum_i x_i;  d/dx_i = 1
    return Value(sum(x.data for x in xs), tuple(xs), (1.0,) * len(xs))

def dot(ws, xs):  # sum_i w_i * x_i;  d/dw_i = x_i, d/dx_i = w_i
    w_data, x_data = [w.data for w in ws], [x.data for x in xs]
    return Value(sum(map(operator.mul, w_data, x_data)), (*ws, *xs), (*x_data, *w_data))

# Parameters: the knowledge of the model, matrices of shape [out][in] named as in GPT-2, random at first
matrix = lambda n_out, n_in: [[Value(random.gauss(0, 0.08)) for _ in range(n_in)] for _ in range(n_out)]
state_dict = {'wte': matrix(vocab_size, n_embd),     # token embeddings: one row per token
              'wpe': matrix(block_size, n_embd),     # position embeddings: one row per position
              'lm_head': matrix(vocab_size, n_embd)} # from the last vector to one score (logit) per token
for i in range(n_layer):  # each transformer block: attention's query, key, value and output maps, then the MLP
    for name in ('attn_wq', 'attn_wk', 'attn_wv', 'attn_wo'):
        state_dict[f'layer{i}.{name}'] = matrix(n_embd, n_embd)
    state_dict[f'layer{i}.mlp_fc1'] = matrix(4 * n_embd, n_embd)  # widen 4x
    state_dict[f'layer{i}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)  # and back
params = [p for mat in state_dict.values() for row in mat for p in row]  # every weight, in one flat list
if cfg['load']:  # start from the weights written by --save instead
    shape = lambda sd: {name: [len(row) for row in mat] for name, mat in sd.items()}
    if shape(saved['state_dict']) != shape(state_dict):
        fail(f"--load {cfg['load']}: its weights do not have the shapes its sizes and vocabulary call for")
    for p, x in zip(params, [x for name in state_dict for row in saved['state_dict'][name] for x in row]):
        p.data = x
print(f'parameters: {len(params)}')

# Model: a function from (token, position, what came before) to a score for each possible next token
def linear(x, w):  # y = W x: one dot-product node per output
    return [dot(row, x) for row in w]

def softmax(logits):  # p_i = exp(z_i) / sum_j exp(z_j); subtracting max(z) cannot overflow and changes nothing
    z_max = max(z.data for z in logits)
    exps = [(z - z_max).exp() for z in logits]
    inv_total = vsum(exps) ** -1
    return [e * inv_total for e in exps]

def rmsnorm(x):  # x / sqrt(mean(x^2) + eps): rescale the vector to unit root-mean-square
    scale = (dot(x, x) / len(x) + 1e-5) ** -0.5
    return [xi * scale for xi in x]

head_dim = n_embd // n_head
def gpt(token_id, pos_id, keys, values):
    # keys, values: per layer, the list of key and value vectors of every position so far (the KV cache)
    x = rmsnorm([t + p for t, p in zip(state_dict['wte'][token_id], state_dict['wpe'][pos_id])])  # what + where
    for i in range(n_layer):
        # Attention: the query q asks, each earlier key k answers, and the position takes a weighted mix of values
        x_residual, x = x, rmsnorm(x)
        q = linear(x, state_dict[f'layer{i}.attn_wq'])
        keys[i].append(linear(x, state_dict[f'layer{i}.attn_wk']))
        values[i].append(linear(x, state_dict[f'layer{i}.attn_wv']))  # the cache holds only the past: causal
        x_attn = []
        for h in range(0, n_embd, head_dim):  # each head: its own slice of channels, weights softmax(q.k / sqrt(d))
            weights = softmax([dot(q[h:h + head_dim], k[h:h + head_dim]) / math.sqrt(head_dim) for k in keys[i]])
            x_attn += [dot(weights, [v[j] for v in values[i]]) for j in range(h, h + head_dim)]
        x = [a + b for a, b in zip(linear(x_attn, state_dict[f'layer{i}.attn_wo']), x_residual)]
        # MLP: widen 4x, ReLU, project back; each position thinks on its own about what attention gathered
        x_residual, x = x, rmsnorm(x)
        x = [xi.relu() for xi in linear(x, state_dict[f'layer{i}.mlp_fc1'])]
        x = [a + b for a, b in zip(linear(x, state_dict[f'layer{i}.mlp_fc2']), x_residual)]
    return linear(x, state_dict['lm_head'])  # logits: one unnormalized log-probability per token

def cross_entropy(logits, target):  # -log softmax(z)[target] = log(sum_j exp(z_j)) - z_target
    z_max = max(z.data for z in logits)  # shifting by max(z) keeps exp from overflowing and log from seeing 0
    return vsum([(z - z_max).exp() for z in logits]).log() + z_max - logits[target]

def doc_losses(doc):  # the cross-entropy of each next-token prediction in one document (at most block_size)
    tokens = [BOS] + encode(doc) + [BOS]
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
    return [cross_entropy(gpt(tokens[pos], pos, keys, values), tokens[pos + 1])
            for pos in range(min(block_size, len(tokens) - 1))]

# Adam: per parameter, a running mean of the gradient (m) and of its square (v); step along m / sqrt(v)
beta1, beta2, eps = 0.85, 0.99, 1e-8
m, v = [0.0] * len(params), [0.0] * len(params)
def adam_step(t, lr):  # t: steps taken before this one
    c1, c2 = 1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)  # bias correction: m and v start at 0, too small
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad * p.grad
        p.data -= lr * (m[i] / c1) / ((v[i] / c2) ** 0.5 + eps)  # m_hat / (sqrt(v_hat) + eps)
        p.grad = 0.0

# Training: one document per step; the loss is its mean cross-entropy, lower when the model predicts it better
steps, losses, start = cfg['steps'], [], time.time()
try:
    for step in range(steps):
        token_losses = doc_losses(train_docs[step % len(train_docs)])
        loss = vsum(token_losses) / len(token_losses)  # the mean over the document's positions
        if not math.isfinite(loss.data):
            fail(f'the loss became {loss.data} at step {step + 1}: the learning rate is too high; try a lower --lr')
        loss.backward()
        adam_step(step, cfg['lr'] * (1 - step / steps))
        losses.append(loss.data)
        if step == 0 or (step + 1) % max(1, steps // 10) == 0:
            took = (time.time() - start) / (step + 1)
            print(f'step {step + 1:4d} / {steps} | loss {sum(losses[-100:]) / len(losses[-100:]):.4f} '
                  f'| {1000 * took:.1f} ms/step | {took * (steps - step - 1):.0f} s left', flush=True)
except KeyboardInterrupt:
    print(f'\ninterrupted after {len(losses)} steps: validating, saving and sampling what was learned so far')
val_losses = [loss.data for doc in val_docs for loss in doc_losses(doc)] if steps or cfg['load'] else []
val = f'val loss {sum(val_losses) / len(val_losses):.4f} | ' if val_losses else ''  # per token, on unseen documents
print(f'{val}{len(losses)} steps, {time.time() - start:.1f} s in all')

if cfg['save']:  # write a new file, then rename it over the old one: a crash never leaves half a model behind
    tmp = f"{cfg['save']}.{os.getpid()}.tmp"  # a new name: mode 'x' refuses to overwrite any file
    with open(tmp, 'x') as f:
        json.dump({'config': {k: cfg[k] for k in SIZES}, 'chars': chars,
                   'state_dict': {k: [[p.data for p in row] for row in mat] for k, mat in state_dict.items()}}, f)
    os.replace(tmp, cfg['save'])
    print(f"saved the model to {cfg['save']}")

# Sampling: feed the model its own predictions, one token at a time, until it says BOS (the end)
for sample_idx in range(cfg['samples']):
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
    tokens = [BOS] + encode(cfg['prefix'])
    for pos in range(block_size):
        logits = gpt(tokens[pos], pos, keys, values)
        if pos + 1 < len(tokens): continue  # still reading the prefix
        probs = softmax([z / cfg['temperature'] for z in logits])  # low temperature sharpens, high flattens
        token_id = random.choices(range(vocab_size), weights=[p.data for p in probs])[0]
        if token_id == BOS: break  # the model says the document is over
        tokens.append(token_id)
    name = decode(tokens[1:])
    print(f'sample {sample_idx + 1:2d}: {name}' + ('  (in training data)' if name in train_docs else ''))
