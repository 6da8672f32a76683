#!/usr/bin/env python3
"""Checks docker-compose.yml (and the Dockerfile it builds) without a Docker engine.

    python3 ops/check-compose.py [docker-compose.yml]

No Docker engine runs in this project's CI, so `docker compose up` is never tried there. This catches what breaks
the file for users who do have Docker: YAML that does not parse, a missing service, PostgreSQL other than 15,
a service that does not know where its database is or starts before it, a published port without a healthcheck,
an undeclared named volume, YAML 1.1 traps in port lists, and a Dockerfile that is missing, has no CMD, copies from
a stage it does not define, or builds with a Swift older than Package.swift's swift-tools-version.
Prints one line per problem and exits 1 when there is any; run by ops/test.
"""

import os
import re
import sys
from urllib.parse import urlsplit

try:
    import yaml
except ImportError:
    sys.exit("check-compose: PyYAML is missing (apt-get install python3-yaml, or python3 -m pip install pyyaml)")

DEPENDS_CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def environment(service):
    """The environment of a service as a dict, from either the mapping or the KEY=VALUE list form."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): v for k, v in env.items()}
    result = {}
    for item in env:
        key, _, value = str(item).partition("=")
        result[key] = value
    return result


def depends_on(service):
    """depends_on as {service: condition or None}, from either the list or the mapping form."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {str(name): None for name in deps}
    if isinstance(deps, dict):
        return {str(name): (spec or {}).get("condition") for name, spec in deps.items()}
    return {}


def swift_version(text):
    match = re.search(r"(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def check_dockerfile(path, name, root, problems):
    if not os.path.isfile(path):
        problems.append(f"services.{name}.build: {os.path.relpath(path, root)} does not exist")
        return
    with open(path, encoding="utf-8") as f:
        # Join continuation lines so that one instruction is one line.
        lines = re.sub(r"\\\n", " ", f.read()).splitlines()
    instructions = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    args, stages, last_stage, images = {}, set(), [], []
    for line in instructions:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages and "=" in rest:
            key, _, value = rest.strip().partition("=")
            args[key] = value.strip().strip('"')
        if keyword == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0] if parts else "")
            images.append(image)
            if len(parts) >= 3 and parts[-2].upper() == "AS":
                stages.add(parts[-1])
            last_stage = []
        last_stage.append((keyword, rest))
        if keyword == "COPY":
            source = re.search(r"--from=(\S+)", rest)
            stage = source.group(1) if source else None
            # --from may also name a stage by number or an image (then it holds ':' or '/').
            if stage and stage not in stages and not stage.isdigit() and not re.search(r"[:/]", stage):
                problems.append(f"{os.path.relpath(path, root)}: COPY --from={stage}: no stage of that name")
    if not images:
        problems.append(f"{os.path.relpath(path, root)}: no FROM")
    if not any(keyword == "CMD" for keyword, _ in last_stage):
        problems.append(f"{os.path.relpath(path, root)}: the final stage has no CMD")
    # The builder's Swift must read Package.swift.
    manifest = os.path.join(root, "Package.swift")
    if os.path.isfile(manifest):
        with open(manifest, encoding="utf-8") as f:
            tools = re.match(r"//\s*swift-tools-version:\s*([\d.]+)", f.readline())
        needed = swift_version(tools.group(1)) if tools else None
        for image in images:
            if image.startswith("swift:"):
                have = swift_version(image.split(":", 1)[1])
                if needed and have and have < needed:
                    problems.append(
                        f"{os.path.relpath(path, root)}: FROM {image} is older than Package.swift's "
                        f"swift-tools-version {tools.group(1)}")


def check(compose_path):
    problems = []
    root = os.path.dirname(os.path.abspath(compose_path))
    try:
        with open(compose_path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as error:
        return [f"cannot read it: {error}"]
    except yaml.YAMLError as error:
        return [f"not valid YAML: {error}"]
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict):
        return ["no services: mapping at the top"]
    services = doc["services"]
    for required in ("postgres", "mdr"):
        if not isinstance(services.get(required), dict):
            problems.append(f"services.{required} is missing")
    declared_volumes = set((doc.get("volumes") or {}).keys())

    for name, service in services.items():
        if not isinstance(service, dict):
            problems.append(f"services.{name} is not a mapping")
            continue
        if "image" not in service and "build" not in service:
            problems.append(f"services.{name} has neither image nor build")
        for port in service.get("ports") or []:
            if not isinstance(port, (str, dict)):
                problems.append(f"services.{name}.ports: {port!r} must be a quoted string (YAML 1.1 reads 22:22 as a number)")
        if service.get("ports"):
            health = service.get("healthcheck")
            if not isinstance(health, dict) or not health.get("test") or health.get("disable"):
                problems.append(f"services.{name} publishes ports but has no healthcheck")
        for volume in service.get("volumes") or []:
            if isinstance(volume, dict):
                if volume.get("type", "volume") != "volume":
                    continue
                source = volume.get("source")
            else:
                parts = str(volume).split(":")
                source = parts[0] if len(parts) > 1 else None  # one part: an anonymous volume
            if source and not source.startswith((".", "/", "~", "$")) and source not in declared_volumes:
                problems.append(f"services.{name}.volumes: named volume {source!r} is not declared under volumes:")
        for dependency, condition in depends_on(service).items():
            if dependency not in services:
                problems.append(f"services.{name}.depends_on: no service {dependency!r}")
            if condition is not None and condition not in DEPENDS_CONDITIONS:
                problems.append(f"services.{name}.depends_on.{dependency}: unknown condition {condition!r}")
            if condition == "service_healthy" and not (services.get(dependency) or {}).get("healthcheck"):
                problems.append(f"services.{name} waits for {dependency} to be healthy, but {dependency} has no healthcheck")
        build = service.get("build")
        if build is not None:
            context, dockerfile = (build, "Dockerfile") if isinstance(build, str) else (
                build.get("context", "."), build.get("dockerfile", "Dockerfile"))
            check_dockerfile(os.path.join(root, context, dockerfile), name, root, problems)

    postgres = services.get("postgres")
    if isinstance(postgres, dict) and not str(postgres.get("image", "")).startswith("postgres:15"):
        problems.append(f"services.postgres.image is {postgres.get('image')!r}, expected postgres:15…")

    mdr = services.get("mdr")
    if isinstance(mdr, dict):
        url = environment(mdr).get("MDR_DATABASE_URL")
        if not url:
            problems.append("services.mdr.environment has no MDR_DATABASE_URL")
        else:
            host = urlsplit(re.sub(r"\$\{[^}]*\}", "x", str(url))).hostname
            if host not in services:
                problems.append(f"services.mdr MDR_DATABASE_URL points at {host!r}, which is not a service of this file")
        if "postgres" not in depends_on(mdr):
            problems.append("services.mdr does not depend_on postgres")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "docker-compose.yml"
    problems = check(path)
    for problem in problems:
        print(f"check-compose: {path}: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"check-compose: {path} is fine")


if __name__ == "__main__":
    main()
