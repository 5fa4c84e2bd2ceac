#!/bin/sh
# Prisma's CLI insists on a native schema engine it would download from a CDN these machines
# cannot reach. generate/validate/format never run it, so we point PRISMA_SCHEMA_ENGINE_BINARY here
# and anything that does need the engine fails loudly instead of hanging on a download.
echo "the Prisma schema engine is not available offline; migrations are applied with \`npm run db:migrate\`" >&2
exit 1
