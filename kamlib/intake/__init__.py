"""Intake: everything that reads and checks a client's inputs."""
