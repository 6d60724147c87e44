"""Shared helpers: run microgpt.py the ways people do: in this process (as a script, or as a notebook cell), or as
a command. Every file a test writes goes to one temporary folder, removed when the test run ends, pass or fail."""
import atexit, contextlib, io, os, re, shutil, subprocess, sys, tempfile, types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'microgpt.py')
NAMES = os.path.join(ROOT, 'names.txt')
TMP = tempfile.mkdtemp(prefix='microgpt-tests-')
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
SMALL = os.path.join(TMP, 'small.txt')  # the first 300 names: a quick dataset with a 30-document val set
with open(NAMES) as f, open(SMALL, 'w') as out:
    out.writelines(f.readlines()[:300])
with open(SCRIPT, encoding='utf-8') as f:
    SOURCE = f.read()


def run(*args, source=SOURCE, notebook=False):
    """Run microgpt.py in this process with these flags; return (its names, as attributes; its output).
    With notebook=True it runs as a pasted notebook cell: no __file__, the kernel's own sys.argv, no flags."""
    names = {'__name__': '__main__'} if notebook else {'__name__': '__main__', '__file__': SCRIPT}
    saved_argv, out = sys.argv, io.StringIO()
    sys.argv = ['ipykernel_launcher.py', '-f', 'kernel.json'] if notebook else [SCRIPT, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, SCRIPT, 'exec'), names)
    finally:
        sys.argv = saved_argv
    return types.SimpleNamespace(**names), out.getvalue()


def model(*args):
    """The names of a set-up, untrained model on the small dataset (more flags may follow)."""
    return run('--input', SMALL, '--steps', 0, '--samples', 0, *args)[0]


def cli(*args, cwd=None, timeout=300, **env):
    """Run microgpt.py as a separate command, the way a user does; return the CompletedProcess."""
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], cwd=cwd or TMP, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **env})


def new_folder():
    """An empty folder inside the test run's temporary folder."""
    return tempfile.mkdtemp(dir=TMP)


def mean_loss(m, doc):
    """The model's mean cross-entropy on one document, as a Value: the training loss."""
    token_losses = m.doc_losses(doc)
    return m.vsum(token_losses) / len(token_losses)


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


def val_loss(output):
    """The val loss that microgpt printed."""
    return float(re.search(r'^val loss (\d+\.\d+)', output, re.M).group(1))
