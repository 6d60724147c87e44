"""Shared helpers: run microgpt.py the ways people do: in this process (as a script, or as a notebook cell), or as
a command. Every file a test writes goes to one temporary folder, removed when the test run ends, pass or fail."""
import ast, atexit, concurrent.futures, contextlib, gc, io, os, re, shutil, signal, subprocess, sys, tempfile, types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'microgpt.py')
NAMES = os.path.join(ROOT, 'names.txt')
TMP = tempfile.mkdtemp(prefix='microgpt-tests-')
# The commands the tests run get the environment of a user's shell: their output buffered, as Python buffers it
# unless PYTHONUNBUFFERED is set (a closed output shows at exit only then)
os.environ.pop('PYTHONUNBUFFERED', None)
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
SMALL = os.path.join(TMP, 'small.txt')  # the first 300 names: a quick dataset with a 30-document val set
with open(NAMES) as f, open(SMALL, 'w') as out:
    out.writelines(f.readlines()[:300])
with open(SCRIPT, encoding='utf-8') as f:
    SOURCE = f.read()
KERNEL_ARGV = ['/usr/lib/python3/dist-packages/ipykernel_launcher.py', '-f', '/tmp/kernel-1.json']  # a notebook's
STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def default_stop_signals():
    """In a child, before it runs: Ctrl-C, kill and hangup as a terminal gives them (a background job, or nohup,
    passes some of them on ignored, and Python leaves an ignored signal ignored)."""
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_DFL)


def settings_block(source=SOURCE):
    """The settings at the top of the file, as written: [(name, default value, its comment)], in their order:
    the lines `name = value  # comment` that follow the comment that begins with '# Settings'."""
    lines = source.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('# Settings')) + 1
    rows = []
    for line in lines[start:]:
        row = re.fullmatch(r'([a-z_]+) += (.+?) +# (.*)', line)  # a setting's name is in lowercase
        if not row:
            break
        rows.append((row.group(1), ast.literal_eval(row.group(2)), row.group(3)))
    assert rows, 'no settings after # Settings'
    return rows


def run(*args, source=SOURCE, notebook=False):
    """Run microgpt.py in this process with these flags; return (its names, as attributes; its output).
    With notebook=True it runs as a pasted notebook cell: no __file__, the kernel's own sys.argv, no flags.
    What the script changes in the process (its signal handlers, excepthook, garbage collector) is put back."""
    names = {'__name__': '__main__'} if notebook else {'__name__': '__main__', '__file__': SCRIPT}
    saved_argv, out = sys.argv, io.StringIO()
    handlers, hook, collecting = [signal.getsignal(s) for s in STOP_SIGNALS], sys.excepthook, gc.isenabled()
    sys.argv = list(KERNEL_ARGV) if notebook else [SCRIPT, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, SCRIPT, 'exec'), names)
    finally:
        sys.argv, sys.excepthook = saved_argv, hook
        for s, handler in zip(STOP_SIGNALS, handlers):
            signal.signal(s, handler)
        if collecting:
            gc.enable()
    return types.SimpleNamespace(**names), out.getvalue()


def model(*args):
    """The names of a set-up, untrained model on the small dataset (more flags may follow)."""
    return run('--input', SMALL, '--steps', 0, '--samples', 0, *args)[0]


def cli(*args, cwd=None, timeout=300, **env):
    """Run microgpt.py as a separate command, the way a user does; return the CompletedProcess."""
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], cwd=cwd or TMP, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **env})


def clis(arg_lists, cwd=None, timeout=120):
    """cli(*args) for each list of args, run side by side (they are independent); the results in that order."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        return list(pool.map(lambda args: cli(*args, cwd=cwd, timeout=timeout), arg_lists))


def new_folder():
    """An empty folder inside the test run's temporary folder."""
    return tempfile.mkdtemp(dir=TMP)


def write(path, data):
    """Write text (UTF-8) or bytes to path; return the path."""
    with open(path, 'wb') as f:
        f.write(data.encode('utf-8') if isinstance(data, str) else data)
    return path


def mean_loss(m, doc):
    """The model's mean cross-entropy on one document, as a Value: the training loss."""
    token_losses = m.doc_losses(doc)
    return sum(token_losses) / len(token_losses)


def all_logits(m, doc):
    """The logits at every position of [BOS] + doc, as plain floats, through a fresh KV cache."""
    keys, values = [[] for _ in range(m.n_layer)], [[] for _ in range(m.n_layer)]
    tokens = [m.BOS] + m.encode(doc)
    return [[z.data for z in m.gpt(token, pos, keys, values)] for pos, token in enumerate(tokens)]


def weights(m):
    """Every weight of a model, as plain floats."""
    return [p.data for p in m.params]


def samples(output):
    """The sampled names in microgpt's output, with their marks."""
    return re.findall(r'^sample +\d+: (.*)$', output, re.M)


def progress_steps(output):
    """The step numbers of microgpt's progress lines, in order."""
    return [int(step) for step in re.findall(r'^step +(\d+) / \d+ \| loss', output, re.M)]


def val_loss(output):
    """The val loss that microgpt printed."""
    return float(re.search(r'^val loss (\d+\.\d+)', output, re.M).group(1))
