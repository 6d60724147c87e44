"""microgpt: the whole algorithm of a GPT language model, in one file
of plain Python with no dependencies. It learns names, makes up new ones.
Run `python microgpt.py` (see --help), or paste it in a notebook."""
import argparse, json, math, operator, os, pathlib, random, sys, time
CONFIG = [  # Settings: name, default, meaning, lowest value allowed (up to 10**6). Flags too; in a notebook, edit here
    ('input', 'names.txt', 'the data: one document per line', None),  # the names.txt beside this file
    ('steps', 1000, 'training steps, 0 by default with --load: only sample', 0),
    ('n_layer', 1, 'number of transformer blocks', 1),
    ('n_embd', 16, 'width of every token vector', 1),
    ('n_head', 4, 'attention heads, splitting n_embd', 1),
    ('block_size', 16, 'longest context, in tokens', 1),
    ('lr', 0.01, 'learning rate, decaying to 0', 1e-9),
    ('seed', 42, 'random seed (not of the split)', 0),
    ('samples', 20, 'names to sample after training', 0),
    ('temperature', 0.5, 'below 1: safer names, above: wilder', 1e-9),
    ('save', '', 'write the model to this file', None),
    ('load', '', 'a --save model: sample it, or train it more (--steps)', None)]
SIZES = ('n_layer', 'n_embd', 'n_head', 'block_size')  # the shape of a model
# Plumbing (command line, checks, --load, --save): not the algorithm, skip to Data. Its functions are called there
def fail(message): sys.exit(f'microgpt: error: {message}')  # bad input: one clean line, exit status 1
def read(path):  # the text of a file, or a clean error
    try: return pathlib.Path(path).read_text(encoding='utf-8-sig')  # -sig: a byte-order mark is not text
    except OSError as e: fail(f'cannot read {path!r}: {e.strerror}')
    except UnicodeError: fail(f'{path!r} is not UTF-8 text')
def load_model(path):  # a model written by --save: its sizes, weight count and numbers checked before use
    try:
        model = json.loads(read(path))
        config, chars = model['config'], list(''.join(model['chars']))  # single characters
        numbers = [x for mat in model['state_dict'].values() for row in mat for x in row]
        width = config['n_embd']  # weights: width each per row of wte, lm_head and wpe, then 12 width^2 a layer
        rows = 2 * len(chars) + 2 + config['block_size'] + 12 * config['n_layer'] * width
        sane = all(type(config[k]) is int and config[k] > 0 for k in SIZES)  # whole, positive
        if sane and len(numbers) == rows * width and all(abs(x) < 1e12 for x in numbers):  # and no nan, inf or overflow
            return dict(model, chars=chars, numbers=numbers)  # numbers: in the order of params
    except Exception: pass  # whatever is wrong: not JSON, a key missing, a wrong type, nested too deep
    fail(f'--load {path!r}: not a model from --save')
def setup():  # the settings: the table's defaults, the flags given, and what a model to --load brings
    here = os.path.dirname(os.path.realpath(__file__)) if '__file__' in globals() else ''
    parser = argparse.ArgumentParser(argument_default=argparse.SUPPRESS)  # a flag not given is left out
    parser.error = fail  # argparse's own errors, in one line too
    for name, default, meaning, _ in CONFIG:
        flag = '--' + name.replace('_', '-')  # n_embd: --n-embd
        parser.add_argument(flag, type=type(default), help=f'{meaning} ({default!r})')
    given = vars(parser.parse_args(sys.argv[1:] if here else []))  # here is '' in a notebook: its argv is the kernel's
    cfg = {name: given.get(name, default) for name, default, _, _ in CONFIG}
    saved = load_model(cfg['load']) if cfg['load'] else None
    if saved and set(SIZES) & set(given): fail('--load brings its sizes: no size flags')
    if saved: cfg.update({k: saved['config'][k] for k in SIZES}, steps=given.get('steps', 0))  # steps: see --help
    for name, _, _, low in CONFIG:  # a comparison with nan is false, so nan is refused too
        if low is not None and not low <= cfg[name] <= 10 ** 6:
            fail(f"--{name.replace('_', '-')} must be from {low} to 10**6")
    if cfg['n_embd'] % cfg['n_head']: fail('--n-head must divide --n-embd')
    text = read(given.get('input', os.path.join(here, cfg['input'])))  # a default: beside this file
    if not text.strip(): fail('--input has only blank lines')
    if cfg['save']: save(cfg['save'], None)  # a try, now: a problem shows before training, not after
    if hasattr(sys.stdout, 'reconfigure'):  # print each line at once, and '?' for a character the terminal lacks
        sys.stdout.reconfigure(errors='replace', line_buffering=True)
    return cfg, saved, text
def load_weights(saved):  # the weights of --load in place of the random ones
    if set(''.join(docs)) - set(chars): fail('--input has characters unknown to the model')
    for p, x in zip(params, saved['numbers']): p.data = x
    print(f"loaded {cfg['load']}: {saved['config']}")  # how it was made
def interrupted(stop):  # training stops early; then the model is saved, validated and sampled as usual
    if isinstance(stop, BrokenPipeError):  # the reader of the output left: the rest goes nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    print(f'\ninterrupted after {len(losses)} steps')
def progress(step, start):  # a line at step 1 and every 10%
    if step == 0 or (step + 1) % max(1, steps // 10) == 0:
        took = (time.time() - start) / (step + 1)  # seconds a step
        left = took * (steps - step - 1 + len(val_docs) / 2)  # validating a document: about half (no backward)
        loss = sum(losses[-100:]) / len(losses[-100:])  # the training loss: the mean of the last 100 steps
        print(f'step {step + 1:4d} / {steps} | loss {loss:.4f} | {1000 * took:.1f} ms/step | {left:.0f} s left')
def save(path, model):  # a new file, renamed over the old one: a crash never leaves half a model
    ours = os.path.isfile(path) and read(path).startswith('{"config"')  # a model we wrote
    if os.path.exists(path) and not ours: fail(f'cannot --save to {path!r}: it is not a model')
    tmp = f'{path}.{os.getpid()}.tmp'  # with model None, only a try before training
    try:
        pathlib.Path(tmp).write_text(json.dumps(model))
        os.replace(tmp, path) if model else os.remove(tmp)
    except OSError as e:  # and where what was written is, if anything
        fail(f'cannot --save to {path!r}: {e.strerror}' + (f', see {tmp}' if os.path.exists(tmp) else ''))
    if model: print(f'saved the model to {path}')
def model_file(val_loss):  # what --save writes: the sizes, how the model was made, the vocabulary, the weights
    made = dict(cfg, steps=len(losses), val_loss=val_loss)  # its settings (load: the model it began from)
    weights = {name: [[p.data for p in row] for row in mat] for name, mat in state_dict.items()}
    return {'config': made, 'chars': chars, 'state_dict': weights}
cfg, saved, text = setup()  # the plumbing at work: the settings, a model to --load, the text of --input

# Data: one document per line; 10% of them (500 at most) are held out, to test what the model learned
docs = sorted({line.strip() for line in text.splitlines() if line.strip()})  # each distinct one once (a set), sorted
random.Random(0).shuffle(docs)  # then in an order fixed once for all (seed 0): the same held-out ones, any --seed
n_val = min(500, len(docs) // 10)
val_docs = docs[:n_val]  # held out: never trained on, as no document is there twice
train_docs = docs[n_val:]
print(f'documents: {len(train_docs)} train, {len(val_docs)} val')
random.seed(cfg['seed'])  # from here on, --seed decides: the training order, the initial weights, the samples
random.shuffle(train_docs)

# Tokenizer: one token per distinct character, plus BOS, a token that begins and ends each document
chars = saved['chars'] if saved else sorted(set(''.join(docs)))
BOS = len(chars)  # the id of the begin/end-of-document token
vocab_size = len(chars) + 1
print(f'vocabulary: {vocab_size}')
def encode(text): return [chars.index(ch) for ch in text]  # a character's id: its place in chars
def decode(ids): return ''.join(chars[i] for i in ids)

# Autograd: every number in the model is a Value that remembers how it was computed, to pass gradients back
class Value:
    __slots__ = ('data', 'grad', '_children', '_local_grads')  # no per-object dict: less memory, faster
    def __init__(self, data, children=(), local_grads=()):
        self.data = data                 # the number this node holds
        self.grad = 0.0                  # d(loss)/d(this node), filled in by backward()
        self._children = children        # the nodes this one was computed from
        self._local_grads = local_grads  # d(this node)/d(each child), known as soon as the node is made
    def __repr__(self): return f'Value(data={self.data}, grad={self.grad})'
    def __add__(self, other):  # each operation: its result, then d(result)/d(each input); here 1 and 1
        other = other if isinstance(other, Value) else Value(other)  # a plain number: a leaf, a constant
        return Value(self.data + other.data, (self, other), (1.0, 1.0))
    def __mul__(self, other):  # d(ab)/da = b, d(ab)/db = a
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))
    def __pow__(self, k): return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))  # k: a constant
    def log(self): return Value(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return Value(max(0.0, self.data), (self,), (float(self.data > 0),))
    def __sub__(self, other): return self + other * -1.0  # a - b = a + (-1)b
    def __truediv__(self, other): return self * other ** -1  # a / b = a b^-1
    __radd__ = __add__  # 2 + a: Python asks a to do it, as a.__radd__(2), and 2 + a = a + 2
    __rmul__ = __mul__  # 2 * a, the same way
    def backward(self):  # each node after its children, by a depth-first search: its own stack, any depth
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done: topo.append(node)  # its children are all in topo already
            elif node not in visited:  # two parents may push a node: it is visited once
                visited.add(node)
                stack.append((node, True))  # come back to it once its children are done
                for child in node._children:
                    if child._children and child not in visited:  # a leaf has no children to order
                        stack.append((child, False))
        self.grad = 1.0  # d(loss)/d(loss); then the chain rule, back: child.grad += local_grad * node.grad
        for node in reversed(topo):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad
def vsum(xs): return Value(sum(x.data for x in xs), tuple(xs), [1.0] * len(xs))  # one node: faster than a chain
def dot(ws, xs):  # sum_i w_i * x_i, one node too;  d/dw_i = x_i, d/dx_i = w_i
    w_data, x_data = [w.data for w in ws], [x.data for x in xs]
    return Value(sum(map(operator.mul, w_data, x_data)), (*ws, *xs), (*x_data, *w_data))

# Parameters: the model's knowledge, matrices of shape [out][in] (GPT-2's names where it has one), learned
def matrix(n_out, n_in):  # random, or all units would learn alike; small, so that first guesses are near uniform
    return [[Value(random.gauss(0, 0.08)) for _ in range(n_in)] for _ in range(n_out)]
n_layer, n_embd, n_head, block_size = (cfg[name] for name in SIZES)
state_dict = {'wte': matrix(vocab_size, n_embd),      # token embeddings: one vector per token
              'wpe': matrix(block_size, n_embd),      # position embeddings: one vector per position
              'lm_head': matrix(vocab_size, n_embd)}  # from the final vector to a score (logit) per token
for i in range(n_layer):  # each transformer block: attention's query, key, value and output maps, then the MLP
    for name in ('attn_wq', 'attn_wk', 'attn_wv', 'attn_wo'):
        state_dict[f'layer{i}.{name}'] = matrix(n_embd, n_embd)
    state_dict[f'layer{i}.mlp_fc1'] = matrix(4 * n_embd, n_embd)  # 4x wider inside, as in GPT-2
    state_dict[f'layer{i}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)
params = [p for mat in state_dict.values() for row in mat for p in row]  # every weight, in one flat list
print(f'parameters: {len(params)}')
if saved: load_weights(saved)

# Model: a function from (token, position, what came before) to a score for each possible next token
def linear(x, w): return [dot(row, x) for row in w]  # y = W x: one dot product per row of W
def softmax(logits):  # p_i = exp(z_i) / sum_j exp(z_j): positive, and they sum to 1
    z_max = max(z.data for z in logits)  # a plain number: exp(z - max) cannot overflow, and the ratios are the same
    exps = [(z - z_max).exp() for z in logits]
    inv_total = vsum(exps) ** -1  # 1 / sum_j exp(z_j)
    return [e * inv_total for e in exps]
def rmsnorm(x):  # the vector rescaled to unit root-mean-square
    scale = (dot(x, x) / len(x) + 1e-5) ** -0.5  # 1 / sqrt(mean(x^2) + eps)
    return [xi * scale for xi in x]
head_dim = n_embd // n_head  # each head works on its own slice of the channels
def gpt(token_id, pos_id, keys, values):  # keys, values: per layer, those of every position so far (KV cache)
    tok_emb, pos_emb = state_dict['wte'][token_id], state_dict['wpe'][pos_id]  # what it is, where it stands
    x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])  # what and where; normalized here, and in each block
    for i in range(n_layer):
        x_residual = x  # 1) Attention: the position looks back at every position so far, takes a weighted mix
        x = rmsnorm(x)
        q = linear(x, state_dict[f'layer{i}.attn_wq'])  # the query: what this position is looking for
        k = linear(x, state_dict[f'layer{i}.attn_wk'])  # the key: what it offers to queries, its own and later
        v = linear(x, state_dict[f'layer{i}.attn_wv'])  # the value: what it passes on when attended to
        keys[i].append(k)
        values[i].append(v)  # the cache holds the past and this position, never the future: causal
        x_attn = []
        for h in range(n_head):  # several heads, so that each can look for something else: a vowel, the start...
            hs = h * head_dim  # head h's first channel
            q_h = q[hs:hs + head_dim]  # this head's slice of the query
            scores = [dot(q_h, k_t[hs:hs + head_dim]) for k_t in keys[i]]  # q.k for each position t so far
            weights = softmax([s / math.sqrt(head_dim) for s in scores])  # / sqrt: q.k spreads as sqrt(head_dim)
            head_out = [dot(weights, [v_t[j] for v_t in values[i]])  # sum_t weights_t v_t, channel by channel
                        for j in range(hs, hs + head_dim)]
            x_attn.extend(head_out)
        x = linear(x_attn, state_dict[f'layer{i}.attn_wo'])
        x = [a + b for a, b in zip(x, x_residual)]  # the residual connection: add to x, don't replace it
        x_residual = x  # 2) MLP: the position thinks on its own about what attention gathered
        x = rmsnorm(x)
        x = linear(x, state_dict[f'layer{i}.mlp_fc1'])  # widen 4x: room for many features
        x = [xi.relu() for xi in x]
        x = linear(x, state_dict[f'layer{i}.mlp_fc2'])  # and back to n_embd
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, state_dict['lm_head'])  # the logits: one unnormalized log-probability per token
def cross_entropy(logits, target):  # -log softmax(z)[target] = log(sum_j exp(z_j)) - z_target
    z_max = max(z.data for z in logits)  # a plain number, as in softmax: exp cannot overflow, and log never sees 0
    exps = [(z - z_max).exp() for z in logits]
    return vsum(exps).log() + z_max - logits[target]
def doc_losses(doc):  # the loss of each next-token prediction in one document, at most block_size of them
    tokens = [BOS] + encode(doc) + [BOS]
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]  # empty caches: a new document
    token_losses = []
    for pos in range(min(block_size, len(tokens) - 1)):
        logits = gpt(tokens[pos], pos, keys, values)  # this also caches pos's key and value for later ones
        token_losses.append(cross_entropy(logits, tokens[pos + 1]))
    return token_losses

# Adam: per parameter, a running mean of the gradient (m) and of its square (v); step along m / sqrt(v)
beta1, beta2, eps = 0.85, 0.99, 1e-8  # shorter memories than the usual 0.9 and 0.999: this run is short
m, v = [0.0] * len(params), [0.0] * len(params)  # the running means, one per parameter
def adam_step(t, lr):  # t: steps taken before this one
    c1, c2 = 1 - beta1 ** (t + 1), 1 - beta2 ** (t + 1)  # bias correction: m, v start at 0, too small
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad * p.grad  # g^2
        p.data -= lr * (m[i] / c1) / ((v[i] / c2) ** 0.5 + eps)  # m_hat / (sqrt(v_hat) + eps): steps of roughly lr
        p.grad = 0.0  # backward adds to .grad, so it starts from 0 at every step

# Training: one document per step; its loss is the mean cross-entropy, lower when the model predicts it better
steps, losses, start = cfg['steps'], [], time.time()  # losses: the training loss of every step
try:
    for step in range(steps):
        token_losses = doc_losses(train_docs[step % len(train_docs)])
        loss = vsum(token_losses) / len(token_losses)  # the mean over the document's positions
        loss.backward()
        adam_step(step, cfg['lr'] * (1 - step / steps))  # the rate decays: big steps first, then fine ones
        losses.append(loss.data)
        progress(step, start)
except (KeyboardInterrupt, BrokenPipeError) as stop: interrupted(stop)  # Ctrl-C, or the output's reader left
if cfg['save']: save(cfg['save'], model_file(None))  # at once: nothing after this can lose the training
if val_docs and (losses or not saved):  # not for a loaded model left untrained: its file says its val loss
    val_losses = [each.data for doc in val_docs for each in doc_losses(doc)]  # every held-out token's loss
    val_loss = sum(val_losses) / len(val_losses)  # per token
    print(f'val loss {val_loss:.4f} | per token, {len(val_docs)} held-out docs')
    if cfg['save']: save(cfg['save'], model_file(round(val_loss, 4)))  # again, with its val loss

# Sampling: feed the model its own predictions, one token at a time, until it says BOS (the end)
for sample_idx in range(cfg['samples']):
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]  # empty caches: a new name
    tokens = [BOS]  # it begins with BOS, as every document does
    for pos in range(block_size):
        logits = gpt(tokens[pos], pos, keys, values)
        probs = softmax([z / cfg['temperature'] for z in logits])  # temperature T < 1 sharpens, T > 1 flattens
        token_id = random.choices(range(vocab_size), weights=[p.data for p in probs])[0]  # drawn by its probability
        if token_id == BOS: break  # the model says the document is over
        tokens.append(token_id)
    name = decode(tokens[1:])
    seen = '  (in training data)' if name in train_docs else ''  # a copy of a name in its training set
    print(f'sample {sample_idx + 1:2d}: {name}{seen}')
