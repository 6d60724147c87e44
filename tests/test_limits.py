"""microgpt.py keeps its own limits: 260 lines, 120 characters a line, Python 3.9 syntax, the standard library."""
import ast, sys, unittest
from tests.helpers import SOURCE

STDLIB_IMPORTS = {'argparse', 'json', 'math', 'operator', 'os', 'pathlib', 'random', 'statistics', 'sys', 'time'}


class TestLimits(unittest.TestCase):
    def test_at_most_260_lines_of_at_most_120_characters(self):
        lines = SOURCE.splitlines()
        self.assertLessEqual(len(lines), 260)
        self.assertLessEqual(max(len(line) for line in lines), 120)

    def test_python_3_9_syntax(self):
        ast.parse(SOURCE, feature_version=(3, 9))

    def test_only_the_standard_library_is_imported(self):
        imported = set()
        for node in ast.walk(ast.parse(SOURCE)):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split('.')[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module.split('.')[0])
        self.assertLessEqual(imported, STDLIB_IMPORTS)
        if hasattr(sys, 'stdlib_module_names'):  # Python 3.10 and later can say it for every module
            self.assertLessEqual(imported, set(sys.stdlib_module_names))


if __name__ == '__main__':
    unittest.main()
