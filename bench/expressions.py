"""Provides the expression benchmark: Entra's default user mappings over 100k seeded Faker users.

    python bench/expressions.py [--users 100000] [--seed 1]

The mapping set is compiled once (when the preset is built), then `compute` runs it per user. The
baseline, measured in the same run, is a plain dict copy of the same source attributes: the floor
any mapping engine pays. Target: the 100k users in at most 2 seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from faker import Faker  # noqa: E402

from sandbox.engine.mappings.mapping import compute, to_scim_document  # noqa: E402
from sandbox.engine.mappings.presets import default_user_mappings  # noqa: E402
from sandbox.expressions import EvaluationContext, attributes  # noqa: E402

TARGET_SECONDS = 2.0
POOL = 2_000


def make_users(count: int, seed: int) -> list[dict[str, object]]:
    """Build `count` directory users from instance-seeded Faker pools (same seed, same users)."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    # Faker's name and address providers cost ~50 us a call; draw pools once, combine per user.
    first = [fake.first_name() for _ in range(POOL)]
    last = [fake.last_name() for _ in range(POOL)]
    cities = [fake.city() for _ in range(POOL // 4)]
    streets = [fake.street_address() for _ in range(POOL // 4)]
    jobs = [fake.job() for _ in range(POOL // 4)]
    countries = ["United States", "Japan", "Netherlands", "Germany", "France", "India"]
    departments = ["Sales", "Engineering", "Support", "Finance", "Legal", None]
    users = []
    for index in range(count):
        given, surname = rng.choice(first), rng.choice(last)
        nickname = f"{given}.{surname}{index}".lower()
        users.append(
            {
                "objectId": f"{index:08x}-0000-4000-8000-{rng.getrandbits(48):012x}",
                "userPrincipalName": f"{nickname}@contoso.onmicrosoft.com",
                "mail": f"{nickname}@contoso.com",
                "mailNickname": nickname,
                "displayName": f"{given} {surname}",
                "givenName": given,
                "surname": surname,
                "jobTitle": rng.choice(jobs),
                "department": rng.choice(departments),
                "employeeId": str(100_000 + index),
                "preferredLanguage": rng.choice(["en-US", "ja-JP", "nl-NL"]),
                "country": rng.choice(countries),
                "city": rng.choice(cities),
                "streetAddress": rng.choice(streets),
                "postalCode": f"{rng.randrange(10_000, 99_999)}",
                "telephoneNumber": f"+1 555 {rng.randrange(1_000_000, 9_999_999)}",
                "mobile": f"+1 555 {rng.randrange(1_000_000, 9_999_999)}" if index % 3 else None,
                "manager": None,
                "accountEnabled": index % 50 != 0,
                "IsSoftDeleted": "True" if index % 50 == 0 else "False",
                "userType": "Member",
            }
        )
    return users


def main() -> None:
    """Run the benchmark and print wall time, users/s and the ratio to the dict-copy baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    users = make_users(args.users, args.seed)
    print(f"generated {len(users):,} Faker users in {time.perf_counter() - started:.2f} s")

    mappings = default_user_mappings()  # parsed and compiled here, once
    pairs = [(m.target, attributes(m.node)[0].name) for m in mappings if m.node is not None]
    context = EvaluationContext(rng=random.Random(args.seed))

    started = time.perf_counter()
    for user in users:
        {target: user.get(name) for target, name in pairs}
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    for user in users:
        compute(mappings, user, context=context)
    elapsed = time.perf_counter() - started

    started = time.perf_counter()
    for user in users:
        to_scim_document(compute(mappings, user, context=context))
    with_document = time.perf_counter() - started

    n = len(users)
    verdict = "within" if elapsed <= TARGET_SECONDS * n / 100_000 else "OVER"
    print(f"default user mappings ({len(mappings)} mappings) for {n:,} users")
    print(f"  compute:            {elapsed:.3f} s  {n / elapsed:,.0f} users/s")
    print(f"  baseline dict copy: {baseline:.3f} s  {n / baseline:,.0f} users/s")
    print(f"  ratio:              {elapsed / baseline:.1f}x the baseline")
    print(f"  compute + POST doc: {with_document:.3f} s  {n / with_document:,.0f} users/s")
    print(f"  target: <= {TARGET_SECONDS:.1f} s per 100k users -> {verdict}")


if __name__ == "__main__":
    main()
