from django.contrib.auth.hashers import Argon2PasswordHasher


class TestArgon2PasswordHasher(Argon2PasswordHasher):
    """The production algorithm with test-sized cost; production settings keep Django's defaults."""

    time_cost = 1
    memory_cost = 1024
    parallelism = 1
