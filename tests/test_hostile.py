"""The bad-input suite: every generated hostile file through every upload path of the backend."""

from bench.hostile import hostile_files, run_all, upload_paths


def test_suite_covers_the_issue_list():
    names = {h.name for h in hostile_files()}
    for must in ["zero-bytes.png", "truncated.jpg", "bomb-50000x50000.png", "text-named.jpg", "cmyk.jpg",
                 "gray16.png", "animated.gif", "huge-rows.csv", "nan-inf-strings.csv", "latin1.txt",
                 "pickle-checkpoint.pt"]:
        assert must in names
    assert {"image", "text", "checkpoint"} <= set(upload_paths())


def test_every_hostile_file_gets_an_input_error_or_an_honest_conversion():
    r = run_all()
    assert r["tried"] >= len(hostile_files()) * 3
    assert r["handled"] == r["tried"], "\n".join(r["problems"])
