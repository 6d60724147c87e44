"""microgpt: the whole algorithm of a GPT language model, in one file of plain Python. It learns
names.txt, then makes up names. Run `python microgpt.py` (or --help), or paste it in a notebook."""
import argparse, gc, json, math, operator, os, pathlib, random, signal, statistics, sys, time
# Settings: edit them here, or give any of them as a flag: n_embd = 32 is --n-embd 32
input_file = 'names.txt'  # the data, one document per line (names.txt: the one beside this file)
steps = 1000              # training steps, one document each (0 for --load without --steps)
n_layer = 1               # number of transformer blocks
n_embd = 16               # width of every token vector
n_head = 4                # attention heads; each works on n_embd / n_head of the channels
block_size = 16           # longest context in tokens (the longest name in names.txt has 15)
lr = 0.01                 # learning rate: the size of Adam's steps, decaying linearly towards 0
seed = 42                 # random seed: the training order, the first weights, the samples
samples = 20              # names to make up after training
temperature = 0.5         # sampling: below 1, safer names; above 1, wilder ones
save = ''                 # a file to save the trained model in
load = ''                 # a file from --save: sample from that model, or train it further
# Command line (plumbing, not the algorithm; the story starts at Data)
flags = 'input_file steps n_layer n_embd n_head block_size lr seed samples temperature save load'
settings = {name: globals()[name] for name in flags.split()}  # the settings, as written above
SIZES = ['n_layer', 'n_embd', 'n_head', 'block_size']  # what a model's shape is made of
def fail(message): sys.exit(f'microgpt: error: {message}')  # one line on stderr; exit status 1
def read_model(path):  # the dict that --save wrote to path, or None for any other file
    try:  # any error (no such file, not JSON, a key missing...) means it is not our model
        model = json.loads(pathlib.Path(path).read_text(encoding='utf-8'))
        made, data, chars = model['settings'], model['settings']['input_file'], model['chars']
        weights = [x for mat in model['state_dict'].values() for row in mat for x in row]
        if all(type(made[key]) is int for key in SIZES) and type(data) is str and '\0' not in data:
            return model if weights and all(abs(x) < 1e12 for x in weights) else None  # no nan/inf
    except Exception: return None
def on_error(kind, error, trace):  # Python calls this when a script ends on an error
    if issubclass(kind, (KeyboardInterrupt, BrokenPipeError)): os._exit(130)  # Ctrl-C; pipe closed
    if not issubclass(kind, (OSError, UnicodeError)): return sys.__excepthook__(kind, error, trace)
    print('microgpt: error:', error, file=sys.stderr, flush=True)  # a bad file: one line, no trace
    os._exit(1)  # os._exit skips the last flush, which a dead output would fail again
given = dict(settings)  # in a notebook cell there are no flags: edit the settings above instead
if '__file__' in globals():  # a script: every setting is also a flag, as --n-embd 32
    parser = argparse.ArgumentParser(description=__doc__)
    parser.error = fail  # argparse's own complaints, in the same one-line form
    for name, value in settings.items():
        parser.add_argument('--' + name.replace('_', '-'), type=type(value))
    sys.excepthook = on_error
    given = {name: v for name, v in vars(parser.parse_args()).items() if v is not None}
    settings['input_file'] = os.path.join(os.path.dirname(os.path.realpath(__file__)), input_file)
loaded = read_model(given['load']) if given.get('load') else None
if given.get('load') and not loaded: fail(f"--load {given['load']!r}: not a file that --save wrote")
if loaded: settings.update(input_file=loaded['settings']['input_file'], steps=0)  # unless given
settings.update(given)
if loaded: settings.update({name: loaded['settings'][name] for name in SIZES})  # its own sizes
globals().update(settings)  # the names above now hold the values to use
if min(n_layer, n_embd, n_head, block_size) < 1: fail('n_layer, n_embd, n_head, block_size: from 1')
if not (1e-6 <= lr <= 1e6 and 1e-6 <= temperature <= 1e6): fail('lr, temperature: 1e-6 to 1e6')
if n_embd % n_head: fail('n_head must divide n_embd')
if min(steps, samples) < 0: fail('steps, samples: from 0')
if (12 * n_layer * n_embd + block_size) * n_embd > 10**7: fail('over 10**7 weights: too big')

# Data: one document per line; a tenth of them (500 at most) are held out, to test the model
with open(input_file, encoding='utf-8-sig') as f:  # -sig: a BOM is no letter
    docs = sorted(set(line.strip() for line in f if line.strip()))  # each once, in a fixed order
if not docs: fail(f'{input_file!r} has no documents, only blank lines')
random.Random(0).shuffle(docs)  # a generator of its own, seed 0: the same held-out set, any seed
n_val = min(500, len(docs) // 10)
val_docs, train_docs = docs[:n_val], docs[n_val:]  # each name once in docs: none is in both
print(f'documents: {len(train_docs)} train, {len(val_docs)} val')
random.seed(seed)  # from here on the seed decides: the training order, the weights, the samples
random.shuffle(train_docs)

# Tokenizer: a token per distinct character, and BOS, a token that begins and ends each document
chars = sorted(set(''.join(docs)))
BOS = len(chars)  # the id of the begin/end token: the one after the characters' 0 .. len - 1
vocab_size = len(chars) + 1
print(f'vocabulary: {vocab_size}')
def encode(text): return [chars.index(ch) for ch in text]  # a character's id: its place in chars
def decode(ids): return ''.join(chars[i] for i in ids)

# Autograd: every number is a Value that remembers how it was computed, to pass gradients back
tape = []  # every Value computed from others, in the order they were made; backward() uses it
class Value:  # each operation below gives its result, and its derivative by each input
    __slots__ = ('data', 'grad', '_children', '_local_grads')  # no dict per node: less memory
    def __init__(self, data, children=(), local_grads=()):
        self.data = data                 # the number this node holds
        self.grad = 0.0                  # d(loss)/d(this node), filled in by backward()
        self._children = children        # the nodes it was computed from: its inputs
        self._local_grads = local_grads  # d(this node)/d(each input), known when it is made
        if children: tape.append(self)   # recorded after its inputs, which were made first
    def __repr__(self): return f'Value(data={self.data}, grad={self.grad})'
    def __add__(self, other):  # d(a+b)/da = 1, d(a+b)/db = 1
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))
    def __mul__(self, other):  # d(ab)/da = b, d(ab)/db = a
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))
    def __pow__(self, k): return Value(self.data ** k, (self,), (k * self.data ** (k - 1),))
    def log(self): return Value(math.log(self.data), (self,), (1 / self.data,))
    def exp(self): return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    def relu(self): return Value(max(0.0, self.data), (self,), (float(self.data > 0),))
    def __neg__(self): return self * -1.0  # the rest are made of those: -a = a(-1), a - b = a + -b
    def __sub__(self, other): return self + other * -1.0
    def __truediv__(self, other): return self * other ** -1
    def __radd__(self, other): return self + other  # 2 + a: Python asks a, as a.__radd__(2)
    def __rmul__(self, other): return self * other  # 2 * a
    def __rsub__(self, other): return self * -1.0 + other  # 2 - a
    def __rtruediv__(self, other): return self ** -1 * other  # 2 / a
    def backward(self):  # the chain rule, from this node (the loss) back to every node before it
        self.grad = 1.0  # d(loss)/d(loss)
        # Backwards, the tape visits every node before its inputs (they were made first)
        for node in reversed(tape):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad  # +=: a node can feed several others
        tape.clear()  # done with this graph; the next forward pass records a new one
def dot(ws, xs):  # sum(w * x ...) as one node, not 2n, for speed: d/dw_i = x_i, d/dx_i = w_i
    w_data, x_data = [w.data for w in ws], [x.data for x in xs]  # inputs: the ws, then the xs
    return Value(sum(map(operator.mul, w_data, x_data)), ws + xs, x_data + w_data)

# Parameters: the model's knowledge, matrices of shape [out][in], named as in nanoGPT
def matrix(n_out, n_in):  # random, so units differ; small, so first predictions are near uniform
    return [[Value(random.gauss(0, 0.08)) for _ in range(n_in)] for _ in range(n_out)]
state_dict = {'wte': matrix(vocab_size, n_embd),      # token embeddings: a vector per token
              'wpe': matrix(block_size, n_embd),      # position embeddings: one per position
              'lm_head': matrix(vocab_size, n_embd)}  # from the final vector to a score per token
for i in range(n_layer):  # each block: attention's query, key, value and output maps, then the MLP
    for name in ('attn_wq', 'attn_wk', 'attn_wv', 'attn_wo'):
        state_dict[f'layer{i}.{name}'] = matrix(n_embd, n_embd)
    state_dict[f'layer{i}.mlp_fc1'] = matrix(4 * n_embd, n_embd)  # 4 times wider inside, as GPT-2
    state_dict[f'layer{i}.mlp_fc2'] = matrix(n_embd, 4 * n_embd)
params = [p for mat in state_dict.values() for row in mat for p in row]  # every weight in one list
print(f'parameters: {len(params)}')

# Model: from a token at a position, and the keys and values of those before, to next-token scores
def linear(x, w): return [dot(row, x) for row in w]  # y = W x: a dot product per row of W
def add(x, y): return [a + b for a, b in zip(x, y)]
def softmax(logits):  # p_i = exp(z_i) / sum_j exp(z_j): positive, and they sum to 1
    z_max = max(z.data for z in logits)  # exp(z - max) gives the same p, and cannot overflow
    exps = [(z - z_max).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
def rmsnorm(x):  # x rescaled to a root-mean-square of 1
    scale = (dot(x, x) / len(x) + 1e-5) ** -0.5  # 1 / sqrt(mean(x^2) + eps)
    return [xi * scale for xi in x]
head_dim = n_embd // n_head  # each head works on its own slice of the channels
def attention(x, layer, keys, values):  # this position looks back, and takes a weighted mix
    q = linear(x, state_dict[f'layer{layer}.attn_wq'])  # the query: what this position looks for
    k = linear(x, state_dict[f'layer{layer}.attn_wk'])  # the key: what it offers to queries
    v = linear(x, state_dict[f'layer{layer}.attn_wv'])  # the value: what it passes on
    keys.append(k)  # the cache: the past and this position, never the future (so, causal)
    values.append(v)
    x_attn = []
    for h in range(n_head):  # several heads, so that each can look for something else
        channels = range(h * head_dim, (h + 1) * head_dim)  # head h's share of q, k and v
        q_h = [q[j] for j in channels]
        # q.k adds head_dim products, so its spread grows as sqrt(head_dim); divided, it is about 1
        scores = [dot(q_h, [k_t[j] for j in channels]) / math.sqrt(head_dim) for k_t in keys]
        weights = softmax(scores)  # how much each position counts
        head_out = [dot(weights, [v_t[j] for v_t in values]) for j in channels]  # sum_t w_t v_t
        x_attn.extend(head_out)
    return linear(x_attn, state_dict[f'layer{layer}.attn_wo'])
def mlp(x, layer):  # each position on its own, through a hidden layer 4 times wider
    hidden = linear(x, state_dict[f'layer{layer}.mlp_fc1'])
    hidden = [a.relu() for a in hidden]
    return linear(hidden, state_dict[f'layer{layer}.mlp_fc2'])
def gpt(token_id, pos_id, keys, values):  # keys[layer]: that layer's keys so far; values alike
    x = rmsnorm(add(state_dict['wte'][token_id], state_dict['wpe'][pos_id]))  # what, and where
    for layer in range(n_layer):  # each block adds to x, rather than replace it: x + f(rmsnorm(x))
        x = add(x, attention(rmsnorm(x), layer, keys[layer], values[layer]))
        x = add(x, mlp(rmsnorm(x), layer))
    return linear(x, state_dict['lm_head'])  # the logits: a score for each possible next token
def cross_entropy(logits, target):  # the loss: -log p[target], where p = softmax(logits)
    z_max = max(z.data for z in logits)  # as in softmax: then exp(z - z_max) cannot overflow
    total = sum((z - z_max).exp() for z in logits)  # at least exp(0) = 1, so log never meets 0
    return total.log() - (logits[target] - z_max)  # log(sum_j exp(z_j)) - z_t = -log p[target]
def doc_losses(doc):  # the loss at each position of a document: how well it predicts the next token
    tokens = [BOS] + encode(doc) + [BOS]
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]  # a list per layer
    token_losses = []
    for pos in range(min(block_size, len(tokens) - 1)):
        logits = gpt(tokens[pos], pos, keys, values)
        token_losses.append(cross_entropy(logits, tokens[pos + 1]))  # the target: the next token
    return token_losses

# Adam: per parameter, running means of the gradient (m) and of its square (v); step by m / sqrt(v)
beta1, beta2, eps = 0.85, 0.99, 1e-8  # shorter memories than the usual 0.9 and 0.999: a short run
m, v = [0.0] * len(params), [0.0] * len(params)
def adam_step(lr_t, t):  # t: the number of this step, from 1
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad * p.grad
        m_hat = m[i] / (1 - beta1 ** t)  # bias correction: m and v start at 0, too small at first
        v_hat = v[i] / (1 - beta2 ** t)
        p.data -= lr_t * m_hat / (v_hat ** 0.5 + eps)  # about lr_t, whatever the gradient's scale
        p.grad = 0.0  # backward adds to grad, so it starts again from 0
# Saving, loading, stopping (plumbing, not the algorithm; the story goes on at Training)
def copy_weights(model):  # a loaded model's weights into state_dict, matrix by matrix, by name
    def shapes(matrices): return {name: [len(row) for row in mat] for name, mat in matrices.items()}
    if shapes(model['state_dict']) != shapes(state_dict) or model['chars'] != chars:
        fail(f'--load {load!r}: other matrices or characters than these settings and data make')
    numbers = [x for name in state_dict for row in model['state_dict'][name] for x in row]
    for p, x in zip(params, numbers): p.data = float(x)  # params: in state_dict's order too
def save_model(steps_done, replace=True):  # to a new file first, then renamed over the old one
    if os.path.lexists(save) and not (os.path.isfile(save) and read_model(save)):
        fail(f'--save {save!r}: that file is not a model; choose another name')
    record = dict(settings, steps=steps_done, input_file=os.path.abspath(input_file))
    if loaded and not steps_done: record = loaded['settings']  # not trained here: its own record
    weights = {name: [[p.data for p in row] for row in mat] for name, mat in state_dict.items()}
    tmp = f'{save}.{os.urandom(6).hex()}.tmp'  # a random name; 'x': a new file, never an old one
    with open(tmp, 'x') as f: json.dump(dict(settings=record, chars=chars, state_dict=weights), f)
    if replace: os.replace(tmp, save)  # in one step: the old model or the new, never half of one
    else: os.remove(tmp)  # a try before training: the old model stays until there is a new one
stop, shown = [], []  # why training must stop; when each progress line was shown
SIGNALS = [s for s in signal.Signals if s.name in ('SIGINT', 'SIGTERM', 'SIGHUP')]  # Ctrl-C, kill
SIGNALS = [s for s in SIGNALS if signal.getsignal(s) != signal.SIG_IGN and '__file__' in globals()]
def progress(step, losses):  # at step 1, each tenth of the way, the last: mean loss of last 100
    if 0 < step < steps - 1 and (step + 1) % max(1, steps // 10) != 0: return  # not this step
    shown.append(time.time())  # the first step is slow to start (PyPy compiles): time the rest
    took = (shown[-1] - shown[0]) / max(1, step)
    eta = f' | {1000 * took:.1f} ms/step | {took * (steps - step - 1):.0f} s left' if step else ''
    try: print(f'step {step + 1:4d} / {steps} | loss {statistics.fmean(losses[-100:]):.4f}{eta}')
    except OSError: stop.append('output')  # the output was closed or failed: stop, and save
def end_training(losses):  # the model is saved first; after that, a signal ends the run
    if save: save_model(len(losses))
    for s in SIGNALS: signal.signal(s, signal.default_int_handler)  # a signal: KeyboardInterrupt
    if len(stop) > 1 or (stop and not losses): raise KeyboardInterrupt  # 2 signals, or no training
    if stop: print(f'stopped after {len(losses)} steps')
for s in SIGNALS: signal.signal(s, lambda signum, frame: stop.append(signum))  # stop training
if '__file__' in globals() and hasattr(sys.stdout, 'reconfigure'):  # a script, with an output
    sys.stdout.reconfigure(line_buffering=True, errors='replace')  # a line at once, even to a pipe
if '__file__' in globals() and sys.implementation.name == 'cpython': gc.disable()  # no cycles
if loaded: copy_weights(loaded)
if save: save_model(0, replace=False)  # so that a bad path fails now, not at the end

# Training: one document per step; its loss is the mean cross-entropy over its positions
losses = []  # each step's loss, for the progress lines
for step in range(steps):
    token_losses = doc_losses(train_docs[step % len(train_docs)])  # forward: the graph is built
    loss = sum(token_losses) / len(token_losses)
    loss.backward()  # backward: every parameter's grad
    adam_step(lr * (1 - step / steps), step + 1)  # the rate decays: big steps first, then fine ones
    losses.append(loss.data)
    progress(step, losses)
    if stop: break  # Ctrl-C, kill, a closed terminal or output: training ends, and is kept
end_training(losses)
if val_docs and (losses or not loaded):  # Validation, unless a loaded model only samples
    val_losses = []
    for doc in val_docs:
        val_losses.extend(token_loss.data for token_loss in doc_losses(doc))
        tape.clear()  # no backward here: forget the graph
    print(f'val loss {sum(val_losses) / len(val_losses):.4f} | per token, {n_val} held-out docs')

# Sampling: from BOS, the model draws one token at a time, and is fed it, until it draws BOS
for sample_idx in range(samples):
    keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]  # a new name
    tokens = [BOS]
    for pos in range(block_size):
        logits = gpt(tokens[pos], pos, keys, values)
        probs = softmax([z / temperature for z in logits])  # T < 1 sharpens, T > 1 flattens
        token_id = random.choices(range(vocab_size), weights=[p.data for p in probs])[0]
        if token_id == BOS: break  # the model ends the name
        tokens.append(token_id)
    tape.clear()  # no backward here either
    name = decode(tokens[1:])
    mark = '  (in the training set)' if name in train_docs else ''
    print(f'sample {sample_idx + 1:2d}: {name}{mark}')
