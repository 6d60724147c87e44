"""Shared helpers: run microgpt.py the two ways people do, in this process (like runpy) or as a command."""
import contextlib, io, os, re, runpy, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, 'microgpt.py')
NAMES = os.path.join(ROOT, 'names.txt')
TMP = tempfile.mkdtemp(prefix='microgpt-tests-')
SMALL = os.path.join(TMP, 'small.txt')  # the first 300 names: a quick dataset with a 30-document val set
with open(NAMES) as f, open(SMALL, 'w') as out:
    out.writelines(f.readlines()[:300])


def run(*args):
    """Execute microgpt.py in this process with these command-line arguments; return (namespace, stdout)."""
    saved_argv, out = sys.argv, io.StringIO()
    sys.argv = [SCRIPT, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out):
            namespace = runpy.run_path(SCRIPT, run_name='__main__')
    finally:
        sys.argv = saved_argv
    return namespace, out.getvalue()


def model(*args):
    """The namespace of a set-up but untrained model on the small dataset (extra args override)."""
    return run('--input', SMALL, '--steps', 0, '--samples', 0, *args)[0]


def cli(*args, cwd=None, timeout=300):
    """Run microgpt.py as a separate command, the way a user does; return the CompletedProcess."""
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)], cwd=cwd or TMP, capture_output=True,
                          text=True, timeout=timeout)


def mean_loss(ns, doc):
    """The model's mean cross-entropy on one document, as a Value (the training loss)."""
    token_losses = ns['doc_losses'](doc)
    return ns['vsum'](token_losses) / len(token_losses)


def all_logits(ns, doc):
    """The logits at every position of [BOS] + doc, as plain floats, through a fresh KV cache."""
    keys, values = [[] for _ in range(ns['n_layer'])], [[] for _ in range(ns['n_layer'])]
    tokens = [ns['BOS']] + ns['encode'](doc)
    return [[z.data for z in ns['gpt'](token, pos, keys, values)] for pos, token in enumerate(tokens)]


def samples(output):
    """The sampled names in microgpt's output, with their marks."""
    return re.findall(r'^sample +\d+: (.*)$', output, re.M)


def val_loss(output):
    """The val loss that microgpt printed."""
    return float(re.search(r'^val loss (\d+\.\d+)', output, re.M).group(1))
