#!/bin/bash
# The start of P1, P2 and P3: the default adapter shipped before P1 (commit e44f22f), written from git to
# runs/polarity_sft/start, because the package's default_adapter has been replaced since.
cd "$(dirname "$0")/../../.."
S=runs/polarity_sft/start
[ -f $S/adapter_config.json ] && exit 0
mkdir -p $S
for f in adapter_model.safetensors adapter_config.json; do
  git show e44f22f:src/emoreason/resources/default_adapter/$f > $S/$f
done
