"""The staff console: an agent's tasks and the scheduler's pages; the views live in the routes
package, which the app factory registers."""
