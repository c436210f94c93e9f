"""Read operations (selectors): the querysets and lookups the screens, tasks and services read through."""
