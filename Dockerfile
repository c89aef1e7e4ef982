# sloguard's image, and the image of the GitHub Action (action.yml).
#   docker build --build-arg VERSION=v1.2.3 --build-arg COMMIT=$(git rev-parse --short HEAD) -t sloguard .
#   make docker
# The build command is the one `make build` runs (internal/packaging keeps
# the two in step).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/sloguard ./cmd/sloguard

# A static binary needs no libc: distroless/static holds CA certificates,
# tzdata and /etc/passwd, no shell. It runs as root, which GitHub requires
# of container actions (to write $GITHUB_WORKSPACE and the file commands),
# in the working directory the runner gives: so no USER, no WORKDIR.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/sloguard /usr/local/bin/sloguard
ENTRYPOINT ["/usr/local/bin/sloguard"]
