// Run microgpt.py under Pyodide (CPython compiled to WebAssembly, as in JupyterLite) the way
// `python microgpt.py ARGS` runs it:  MICROGPT_PYODIDE=<pyodide package dir> node pyodide_run.mjs SCRIPT DATA [ARGS...]
// SCRIPT and DATA are copied into Pyodide's in-memory file system at the same absolute paths, and it starts in our
// working directory, so ARGS name DATA as they would under CPython (anything written stays in memory).
// Python's stdout and stderr go to ours; the exit status is Python's, as `python` would set it (os._exit's too).
// Nothing is downloaded: the npm package holds the interpreter and the standard library, and no package is loaded.
import { readFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [script, data, ...args] = process.argv.slice(2).map((arg, i) => (i < 2 ? resolve(arg) : arg));
if (!process.env.MICROGPT_PYODIDE || !data) {
  console.error('usage: MICROGPT_PYODIDE=<pyodide package dir> node pyodide_run.mjs SCRIPT DATA [ARGS...]');
  process.exit(2);
}
const { loadPyodide } = await import(pathToFileURL(join(process.env.MICROGPT_PYODIDE, 'pyodide.mjs')).href);
const pyodide = await loadPyodide();
pyodide.setStdout({ write: (bytes) => writeSync(1, bytes) });  // raw bytes, unbuffered on our side
pyodide.setStderr({ write: (bytes) => writeSync(2, bytes) });
for (const path of [script, data]) {
  pyodide.FS.mkdirTree(dirname(path));
  pyodide.FS.writeFile(path, readFileSync(path));
}
pyodide.FS.mkdirTree(process.cwd());
pyodide.FS.chdir(process.cwd());
pyodide.globals.set('argv', pyodide.toPy([script, ...args]));
try {
  process.exitCode = pyodide.runPython(`
import runpy, sys
sys.argv = list(argv)
try:
    runpy.run_path(sys.argv[0], run_name='__main__')  # sets __file__, as the command line does
    status = 0
except SystemExit as e:  # as CPython exits: None is 0, an int is the status, anything else is printed and 1
    status = e.code if isinstance(e.code, int) else 0 if e.code is None else print(e.code, file=sys.stderr) or 1
except BaseException as error:  # as CPython's top level does: its excepthook, which a script may have set
    sys.excepthook(type(error), error, error.__traceback__)
    status = 1
finally:
    sys.stdout.flush()
    sys.stderr.flush()
status
`);
} catch (error) {  // os._exit(status), which Pyodide raises as a JavaScript error that carries the status
  if (typeof error?.status !== 'number') throw error;
  process.exitCode = error.status;
}
