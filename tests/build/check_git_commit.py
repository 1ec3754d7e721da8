"""The commit in the run metadata and in --version is the checkout's at build time.

scripts/git_commit.cmake writes it at every build; this checks (1) that the built condlif names
the source tree's HEAD, in --version and in a run's metadata, and (2) the script itself in
scratch repositories: the commit, "-dirty" for changed tracked files (not for untracked ones),
a new commit picked up, the file left untouched when nothing changed (so a build recompiles
nothing), and "unknown" outside a checkout or for a tree inside another repository.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
        print("FAIL: %s" % what)


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, "-c", "user.name=condlif test",
                           "-c", "user.email=test@condlif.invalid", *args],
                          check=True, capture_output=True, text=True).stdout.strip()


def head(repo):
    return git(repo, "rev-parse", "--short=12", "HEAD")


def run_script(cmake, script, src, out):
    """The commit string the script writes into out for the tree at src."""
    subprocess.run([cmake, "-DSRC=" + src, "-DOUT=" + out, "-P", script], check=True)
    text = open(out).read()
    m = re.search(r'const char cl_git_commit\[\] = "([^"]*)";', text)
    check(m is not None, "%s defines cl_git_commit: %r" % (out, text))
    return m.group(1) if m else None


def check_binary(condlif, source, work):
    out = subprocess.run([condlif, "--version"], check=True, capture_output=True,
                         text=True).stdout
    m = re.fullmatch(r"condlif \S+ \(commit (\S+)\)\n", out)
    check(m is not None, "--version prints 'condlif X (commit C)': %r" % out)
    if not m:
        return
    commit = m.group(1)
    try:
        is_top = os.path.realpath(git(source, "rev-parse", "--show-toplevel")) == \
            os.path.realpath(source)
    except subprocess.CalledProcessError:
        is_top = False
    if is_top:
        check(commit.removesuffix("-dirty") == head(source),
              "--version names HEAD %s of %s, not %s (was the commit taken when CMake was "
              "configured?)" % (head(source), source, commit))
    else:
        check(commit == "unknown", "outside a checkout the commit is unknown, not %s" % commit)
    cfg = os.path.join(source, "tests", "engine", "tiny.cfg")
    run = os.path.join(work, "run")
    subprocess.run([condlif, "--quiet", "--force", "-o", run, cfg], check=True)
    meta = subprocess.run([sys.executable, os.path.join(source, "analysis", "condlif_io.py"),
                           "meta", run], check=True, capture_output=True, text=True).stdout
    m = re.search(r"^git_commit\s+(\S+)$", meta, re.M)
    check(m is not None and m.group(1) == commit,
          "the run's metadata names commit %s: %s" % (commit, m.group(1) if m else meta))


def check_script(cmake, script, work):
    out = os.path.join(work, "git_commit.c")
    plain = os.path.join(work, "plain")
    os.makedirs(plain)
    check(run_script(cmake, script, plain, out) == "unknown", "a plain directory: unknown")

    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, "sub"))
    git(repo, "init", "-q")
    with open(os.path.join(repo, "a.c"), "w") as f:
        f.write("int a;\n")
    git(repo, "add", "a.c")
    git(repo, "commit", "-q", "-m", "first")
    first = head(repo)
    check(run_script(cmake, script, repo, out) == first, "a clean checkout: its HEAD " + first)
    stamp = os.stat(out).st_mtime_ns
    os.utime(out, ns=(stamp - 10**9, stamp - 10**9))
    stamp = os.stat(out).st_mtime_ns
    run_script(cmake, script, repo, out)
    check(os.stat(out).st_mtime_ns == stamp, "nothing changed: the file is not rewritten")

    with open(os.path.join(repo, "untracked.c"), "w") as f:
        f.write("int u;\n")
    check(run_script(cmake, script, repo, out) == first, "an untracked file is not dirty")
    with open(os.path.join(repo, "a.c"), "a") as f:
        f.write("int b;\n")
    check(run_script(cmake, script, repo, out) == first + "-dirty",
          "a changed tracked file: %s-dirty" % first)
    git(repo, "commit", "-q", "-a", "-m", "second")
    second = head(repo)
    check(second != first and run_script(cmake, script, repo, out) == second,
          "a new commit is picked up: " + second)
    check(run_script(cmake, script, os.path.join(repo, "sub"), out) == "unknown",
          "a tree inside another repository does not take its commit")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cmake", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--condlif", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    shutil.rmtree(a.workdir, ignore_errors=True)
    os.makedirs(a.workdir)
    check_binary(a.condlif, a.source, a.workdir)
    check_script(a.cmake, os.path.join(a.source, "scripts", "git_commit.cmake"), a.workdir)
    print("%d failure(s)" % failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
