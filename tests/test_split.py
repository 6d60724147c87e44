"""The held-out split: decided by the data alone (not the seed, not Python's string hashing, which changes with each
process), and never trained on: what the training loop is given is recorded, step by step, over several epochs."""
import json, os, subprocess, sys, unittest
from tests.helpers import SCRIPT, SMALL, SOURCE, TMP, run

# In a fresh process: run microgpt.py as a script, then print its split
SHOW_SPLIT = '''import json, runpy, sys
sys.argv = sys.argv[1:]
names = runpy.run_path(sys.argv[0], run_name='__main__')
print('split:', json.dumps([names['val_docs'], names['train_docs']]))'''
# Put into microgpt.py before its Training section: a record of each document doc_losses is given; None: training ended
RECORD = '''seen = []
def doc_losses(doc, doc_losses=doc_losses):
    seen.append(doc)
    return doc_losses(doc)
def end_training(*args, end_training=end_training):
    seen.append(None)
    return end_training(*args)
'''
THIRTY = os.path.join(TMP, 'thirty.txt')  # 27 to train on, 3 held out
with open(SMALL) as f, open(THIRTY, 'w') as out:
    out.writelines(f.readlines()[100:130])


def distinct_documents(path):
    with open(path) as f:
        return {line.strip() for line in f} - {''}


class TestSplit(unittest.TestCase):
    def test_the_same_held_out_set_in_processes_with_other_string_hashes_and_seeds(self):
        runs = [('1', 1), ('2', 2), ('3', 1)]  # (PYTHONHASHSEED, --seed)
        procs = [subprocess.Popen([sys.executable, '-c', SHOW_SPLIT, SCRIPT, '--input', THIRTY, '--steps', '0',
                                   '--samples', '0', '--seed', str(seed)], stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, 'PYTHONHASHSEED': hash_seed}) for hash_seed, seed in runs]
        splits = []
        for proc in procs:
            out = proc.communicate(timeout=120)[0]
            self.assertEqual(proc.returncode, 0)
            splits.append(json.loads(out.split('split: ')[1]))
        (val_1, train_1), (val_2, train_2), (val_3, train_3) = splits
        self.assertEqual(val_1, val_2)
        self.assertEqual(val_1, val_3)
        self.assertEqual(val_1, run('--input', THIRTY, '--steps', 0, '--samples', 0)[0].val_docs)  # and this one's
        self.assertEqual(train_1, train_3)  # the training order follows the seed alone ...
        self.assertNotEqual(train_1, train_2)  # ... and another seed gives another
        self.assertEqual(sorted(train_1), sorted(train_2))

    def test_the_held_out_set_is_a_tenth_drawn_from_all_over_the_distinct_documents(self):
        m = run('--input', SMALL, '--steps', 0, '--samples', 0)[0]
        docs = sorted(distinct_documents(SMALL))
        self.assertEqual(len(m.val_docs), len(docs) // 10)
        self.assertEqual(sorted(m.val_docs + m.train_docs), docs)  # each document in one of them, once
        ranks = sorted(docs.index(doc) for doc in m.val_docs)  # places in alphabetical order
        self.assertGreater(ranks[-1] - ranks[0], len(docs) // 2)  # not a run of a-names
        self.assertLess(ranks[0], len(docs) // 4)

    def test_training_over_several_epochs_is_given_every_training_document_in_turn_and_no_held_out_one(self):
        anchor = '# Training:'
        self.assertEqual(SOURCE.count(anchor), 1)
        source = SOURCE.replace(anchor, RECORD + anchor)
        steps = 60  # more than two passes over the 27 training documents
        m = run('--input', THIRTY, '--steps', steps, '--samples', 0, '--n-embd', 4, '--n-head', 1, source=source)[0]
        self.assertEqual(len(m.val_docs), 3)
        self.assertEqual(sorted(m.val_docs + m.train_docs), sorted(distinct_documents(THIRTY)))
        end = m.seen.index(None)
        trained, validated = m.seen[:end], m.seen[end + 1:]
        self.assertEqual(len(trained), steps)
        self.assertFalse(set(trained) & set(m.val_docs))
        self.assertEqual(trained, [m.train_docs[step % 27] for step in range(steps)])  # one a step, in turn
        self.assertEqual(validated, m.val_docs)  # the val loss: the held-out documents, each once


if __name__ == '__main__':
    unittest.main()
