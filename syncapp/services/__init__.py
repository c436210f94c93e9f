"""Write operations (services): keyword-only functions; views, forms, tasks and commands call these."""
