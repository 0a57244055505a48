"""``make audit``: known vulnerabilities in the resolved dependencies (docs/SECURITY.md, "Audit").

Every package of requirements.lock (the ``pip freeze`` that ``make`` installs .venv from) goes to pip-audit
(PyPI's advisory data, the same the PyPA publishes). Where the index this machine reaches does not
serve PyPI's per-version JSON, pip-audit skips the package; it is then judged from the project's
JSON, whose ``vulnerabilities`` are those of its latest release (only when that is the installed
version; otherwise the package is reported as not audited).

The verdict, one line per finding:

- FAIL   an advisory with a fixed release: upgrade (or, if we cannot, accept it in
         tools/audit_accepted.txt with the reason);
- WARN   an advisory no release fixes yet, an accepted one, a package that could not be audited,
         or the advisory service out of reach: printed, not failing the build.

Exit 1 on any FAIL, else 0.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = Path(__file__).with_name("audit_accepted.txt")
PROJECT_JSON = "https://pypi.org/pypi/{name}/json"


@dataclass
class Finding:
    package: str
    version: str
    advisory: str
    fixed_in: list[str]
    source: str

    def line(self, verdict: str, why: str) -> str:
        fix = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release"
        return f"audit: {verdict} {self.package} {self.version}: {self.advisory} ({fix}; {self.source}) {why}".rstrip()


def canonical(name: str) -> str:
    """PEP 503 names: pip freeze says ast_serialize where the index says ast-serialize."""
    return re.sub(r"[-_.]+", "-", name).lower()


def accepted() -> dict[str, str]:
    """advisory id -> why we cannot upgrade (``ID  reason`` lines; # comments)."""
    out = {}
    for line in ACCEPTED.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            advisory, _, reason = line.partition(" ")
            out[advisory] = reason.strip()
    return out


def pip_audit(pip_audit_bin: str, requirements: Path) -> dict[str, object]:
    done = subprocess.run(
        [
            pip_audit_bin,
            "-r",
            str(requirements),
            "--no-deps",
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if not done.stdout.strip().startswith("{"):
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}")
    report: dict[str, object] = json.loads(done.stdout)
    return report


def from_project_json(name: str, version: str) -> list[Finding] | str:
    """Findings for the latest release from PyPI's project JSON, or why the package is not audited."""
    try:
        with urllib.request.urlopen(PROJECT_JSON.format(name=name), timeout=30) as response:
            doc = json.load(response)
    except (OSError, ValueError) as exc:
        return f"not audited: {exc}"
    latest = doc.get("info", {}).get("version")
    if latest != version:
        return f"not audited: the index describes only its latest release ({latest}), not {version}"
    return [
        Finding(name, version, v.get("id", "?"), list(v.get("fixed_in") or []), "PyPI project JSON")
        for v in doc.get("vulnerabilities") or []
    ]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audit", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pip-audit", default=str(ROOT / ".venv-audit" / "bin" / "pip-audit"))
    parser.add_argument("--requirements", type=Path, required=True, help="the pip freeze to audit (requirements.lock)")
    args = parser.parse_args(argv)
    pins = {
        canonical(name): version
        for name, version in (
            line.split("==", 1) for line in args.requirements.read_text().splitlines() if "==" in line
        )
    }
    try:
        report = pip_audit(args.pip_audit, args.requirements)
    except (OSError, RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        print(f"audit: WARN not run: pip-audit failed: {exc}")
        return 0
    findings: list[Finding] = []
    skipped: list[tuple[str, str]] = []
    for dep in report.get("dependencies", []):  # type: ignore[attr-defined]
        if dep.get("skip_reason"):
            skipped.append((dep["name"], pins.get(canonical(dep["name"]), dep.get("version", "?"))))
        findings += [
            Finding(dep["name"], dep["version"], v["id"], v.get("fix_versions", []), "pip-audit")
            for v in dep.get("vulns", [])
        ]
    not_audited = []
    for name, version in skipped:
        result = from_project_json(name, version)
        if isinstance(result, str):
            not_audited.append(f"audit: WARN {name} {version} {result}")
        else:
            findings += result
    ok = accepted()
    failed = 0
    for finding in findings:
        if finding.advisory in ok:
            print(finding.line("WARN", f"accepted: {ok[finding.advisory]}"))
        elif not finding.fixed_in:
            print(finding.line("WARN", "nothing to upgrade to yet"))
        else:
            print(finding.line("FAIL", "upgrade it, or accept it in tools/audit_accepted.txt saying why"))
            failed += 1
    for line in not_audited:
        print(line)
    by_pip_audit = len(pins) - len(skipped)
    print(
        f"audit: {len(pins)} packages: {by_pip_audit} audited by pip-audit, {len(skipped) - len(not_audited)} from "
        f"PyPI's latest-release data, {len(not_audited)} not audited; {len(findings)} known vulnerabilities, "
        f"{failed} to fix"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
