"""microgpt.py keeps its own limits: 260 lines of 100 characters at most, Python 3.9 syntax, the standard library
only, and no function that reads a name assigned further down."""
import ast, importlib.util, os, subprocess, sys, sysconfig, unittest
from tests.helpers import ROOT, SCRIPT, SOURCE

SHARED_FORWARD_REFS = os.path.join(ROOT, '..', 'shared', 'tools', 'forward_refs.py')  # the team's tool
FORWARD_REFS = os.path.join(ROOT, 'tests', 'forward_refs.py')  # a copy of it, so that a clone alone runs the test


def is_standard_library(module):
    """Whether a top-level module comes with Python itself (built in, frozen, or in the stdlib folder)."""
    if hasattr(sys, 'stdlib_module_names'):  # Python 3.10 and later can say it for every module
        return module in sys.stdlib_module_names
    spec = importlib.util.find_spec(module)
    if spec is None:
        return False
    if spec.origin in (None, 'built-in', 'frozen'):
        return True
    stdlib = os.path.realpath(sysconfig.get_paths()['stdlib'])
    where = os.path.realpath(spec.origin)
    return where.startswith(stdlib + os.sep) and not {'site-packages', 'dist-packages'} & set(where.split(os.sep))


class TestLimits(unittest.TestCase):
    def test_at_most_260_lines_of_at_most_100_characters(self):
        lines = SOURCE.splitlines()
        self.assertLessEqual(len(lines), 260)
        too_long = [(number, len(line)) for number, line in enumerate(lines, 1) if len(line) > 100]
        self.assertEqual(too_long, [])

    def test_python_3_9_syntax(self):
        ast.parse(SOURCE, feature_version=(3, 9))

    def test_only_the_standard_library_is_imported(self):
        imported = set()
        for node in ast.walk(ast.parse(SOURCE)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split('.')[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split('.')[0])
        self.assertTrue(imported)
        self.assertEqual({module for module in imported if not is_standard_library(module)}, set())

    def test_no_function_reads_a_name_assigned_below_it(self):
        tools = [FORWARD_REFS] + [SHARED_FORWARD_REFS] * os.path.exists(SHARED_FORWARD_REFS)  # both, where both are
        for tool in tools:
            with self.subTest(tool=tool):
                result = subprocess.run([sys.executable, tool, SCRIPT], capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertTrue(result.stdout.startswith('0 functions'), result.stdout)

if __name__ == '__main__':
    unittest.main()
