// Manage Fly.io apps, secrets, volumes, IP addresses, certificates and Managed Postgres.
package flyio
