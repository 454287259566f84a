"""Account planning: each key account's plan, the resource plan and the plan review."""
