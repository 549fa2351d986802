"""Every topic module follows the contract in dlplay/topics.py: one test per topic, the same checks for all."""

import dataclasses
import importlib
import math
import pickle

import pytest

from dlplay import topics
from dlplay.errors import InputError
from dlplay.topics import Config, Shipped
from dlplay.train import Task, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _example(mod):
    return getattr(mod, "EXAMPLE", None) or topics.config_type(mod)()


@pytest.mark.parametrize("name", topics.TOPICS)
def test_topic_follows_the_contract(name):
    mod = importlib.import_module(name)
    assert isinstance(mod.TITLE, str) and mod.TITLE
    assert isinstance(mod.SHIPPED, dict) and all(isinstance(s, Shipped) and s.name == k for k, s in mod.SHIPPED.items())
    cls = topics.config_type(mod)
    assert issubclass(cls, Config) and dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    cfg = _example(mod)
    assert cfg.check() is cfg
    assert pickle.loads(pickle.dumps(cfg)) == cfg          # plain data: it can travel to a worker process
    for sh in mod.SHIPPED.values():
        assert isinstance(sh.config, Config) and sh.steps >= 0   # 0: a task that finishes by itself
        sh.config.check()
    task = mod.make_task(cfg, 0, device="cpu")
    assert isinstance(task, Task)
    tr = Trainer(task).run(steps=2, evaluate=False)
    assert tr.steps >= 1 and all(math.isfinite(v) for v in tr.latest.values())
    state = task.state_dict()
    if state is not None:       # state carried to a fresh task of the same config and seed
        other = mod.make_task(cfg, 0, device="cpu")
        other.load_state_dict(pickle.loads(pickle.dumps(state)))
        other.load_live_state(pickle.loads(pickle.dumps(task.live_state())))


@pytest.mark.parametrize("name", topics.TOPICS)
def test_config_check_names_the_bad_value(name):
    mod = importlib.import_module(name)
    cfg = _example(mod)
    numeric = [f for f in dataclasses.fields(cfg) if type(getattr(cfg, f.name)) in (int, float)]
    assert numeric, "a topic config has at least one numeric knob"
    f = numeric[0]
    with pytest.raises(InputError) as e:
        dataclasses.replace(cfg, **{f.name: 10**9}).check()
    assert str(10**9) in str(e.value) or "1000000000" in str(e.value)


def test_every_page_is_titled_as_the_catalogue_names_it():
    """The sidebar, the home page's cards and the browser tests find a page by its catalogue title."""
    import re

    from dlplay import catalogue
    for d in catalogue.available():
        m = re.search(r'page_header\(\s*"([^"]+)"', d.path.read_text())
        assert m and m.group(1) == d.title, d.page
