# sloguard's build, tests and packaging. `make test` is what CI runs.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := go run github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
GORELEASER := go run github.com/goreleaser/goreleaser/v2@v2.15.1
TASK_DIR := azure-devops/task
# The Marketplace publisher of the Azure DevOps extension.
PUBLISHER ?= sloguard
# GoReleaser reads the repository's remote URL: a clone without a remote (a
# local worktree) lends it the upstream's through the environment, which
# changes nothing in the repository.
RELEASE_ENV := $(if $(shell git remote 2>/dev/null),,GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=https://github.com/sloguard/sloguard.git)

# The one build command: the Dockerfile runs the same (internal/packaging
# checks that they agree).
GO_BUILD = CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)"

.PHONY: build test vet fmt-check go-test task-test actionlint release-check release-snapshot release azure-task-binaries azure-extension docker clean

build:
	$(GO_BUILD) -o bin/sloguard ./cmd/sloguard

test: vet fmt-check build task-test actionlint release-check go-test

vet:
	go vet ./...

fmt-check:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path '*/node_modules/*' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Go tests last, through gotestsum, so that the run ends with its count of
# tests: "DONE 512 tests in 90s". With the race detector (it needs cgo: gcc,
# which .ci/run installs): a data race fails the run.
GOTESTSUM := go run gotest.tools/gotestsum@v1.12.3

go-test:
	CGO_ENABLED=1 $(GOTESTSUM) --format pkgname -- -race -count=1 ./...

task-test:
	cd $(TASK_DIR) && npm ci --no-audit --no-fund && npm test

# actionlint checks the workflows of this repository (.github/workflows,
# which use the action as ./ and so check action.yml too), then the
# examples as workflows of a scratch repository that holds this action.yml,
# with `uses: sloguard/sloguard@v1` pointed at it: so it also checks every
# input the examples pass to the action. actionlint checks run: scripts
# with shellcheck only when it finds it, silently otherwise: so it is
# required here (.ci/run installs it), and checks the shell scripts too.
actionlint:
	@command -v shellcheck >/dev/null || { echo "make actionlint: shellcheck is not installed, and without it actionlint skips every run: script: apt-get install shellcheck (bash .ci/run does)" >&2; exit 1; }
	shellcheck .ci/run action/install.sh
	$(ACTIONLINT) .github/workflows/*.yml
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	mkdir -p "$$tmp/.git" "$$tmp/.github/workflows" "$$tmp/action" && cp action.yml "$$tmp/" && cp action/install.sh "$$tmp/action/" && \
	for f in examples/github/*.yml; do \
		sed 's#uses: sloguard/sloguard@v1#uses: ./#' "$$f" > "$$tmp/.github/workflows/$$(basename "$$f")"; \
	done && \
	$(ACTIONLINT) examples/github/*.yml && \
	cd "$$tmp" && $(ACTIONLINT) .github/workflows/*.yml

# Releases (.goreleaser.yaml): the archives for every runner action.yml
# installs on, the checksums file and an SBOM per binary, in dist/.
release-check:
	$(GORELEASER) check

release-snapshot:
	$(RELEASE_ENV) $(GORELEASER) release --snapshot --clean

# What .github/workflows/release.yml runs on a tag (needs GITHUB_TOKEN).
release:
	$(GORELEASER) release --clean

# The binaries the Azure DevOps task bundles, one per agent OS/arch.
azure-task-binaries:
	GOOS=linux   GOARCH=amd64 $(GO_BUILD) -o $(TASK_DIR)/bin/linux-x64/sloguard ./cmd/sloguard
	GOOS=linux   GOARCH=arm64 $(GO_BUILD) -o $(TASK_DIR)/bin/linux-arm64/sloguard ./cmd/sloguard
	GOOS=windows GOARCH=amd64 $(GO_BUILD) -o $(TASK_DIR)/bin/windows-x64/sloguard.exe ./cmd/sloguard
	GOOS=darwin  GOARCH=amd64 $(GO_BUILD) -o $(TASK_DIR)/bin/darwin-x64/sloguard ./cmd/sloguard
	GOOS=darwin  GOARCH=arm64 $(GO_BUILD) -o $(TASK_DIR)/bin/darwin-arm64/sloguard ./cmd/sloguard

# The Marketplace package (.vsix) under your publisher:
#   make azure-extension PUBLISHER=my-publisher
# See the README, "Packaging the task".
azure-extension: azure-task-binaries
	cd $(TASK_DIR) && npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev
	cd azure-devops && npx --yes tfx-cli@0.23.1 extension create --manifest-globs vss-extension.json --publisher "$(PUBLISHER)" --output-path dist/

docker:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t sloguard:$(VERSION) .

clean:
	rm -rf bin $(TASK_DIR)/bin $(TASK_DIR)/dist azure-devops/dist
