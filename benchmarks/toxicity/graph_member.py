"""Research for issue #12: does a graph network member (Chemprop-style D-MPNN) add to the 2.2.0 blend?

    python -m benchmarks.toxicity.graph_member features --out var/graph-members.npz
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz --seed 0 \
        [--epochs 30] [--workers 2] --out var/graph-desc-s0.npy
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz \
        --report dmpnn_rdkit2d=var/graph-desc-s0.npy,var/graph-desc-s1.npy --json OUT.json
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz --serving

Every member is scored on the selection folds (fold seed 0, as in `model_selection`), so the answer is
not read off the folds the shipped card reports. `features` stores the shipped members' out-of-fold
predictions once (the three boosters and three network seeds, ~12 min); `cv` trains the
D-MPNN per fold (~7 min a fold on one core); `--report` compares the blend with and without it by
paired per-fold differences (the folds differ in chemistry far more than models do, so only the
paired difference is informative); `--serving` checks the ONNX export and its cost, which decides
whether such a member could ship at all. The network and its inputs are the shipped ones
(`hygeia.toxicity.graph_network`, `graph_inputs`); the variant without descriptors in
`graph_member.json` was run with this script at commit 7435021, before it moved there.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rdkit import Chem

from benchmarks.toxicity.blending import (
    NETWORK_WEIGHT,
    nested_weight,
    paired_row,
    per_fold,
    print_rows,
    shipped_blend,
)
from benchmarks.toxicity.model_selection import SELECTION_SEED, selection_cli
from hygeia.toxicity.graph_inputs import (
    GRAPH_INPUTS,
    GraphConfig,
    MoleculeGraphs,
    fit_descriptor_quantiles,
    scale_descriptors,
)
from hygeia.toxicity.graph_network import DirectedMPNN, export_graph_onnx, predict_graph, train_graph


def write_members(out: Path, data: Path) -> None:
    """Out-of-fold predictions of the shipped members on the selection folds, plus what the graph needs."""
    from hygeia.toxicity.dataset import load_tox21
    from hygeia.toxicity.members import SHIPPED_MEMBERS, cross_validate_member
    from hygeia.toxicity.network_training import NETWORK_SEEDS, cross_validate_network
    from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups
    from hygeia.toxicity.training import featurize_parts, member_matrix, network_matrix

    started = time.perf_counter()
    dataset = load_tox21(data)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, SELECTION_SEED)
    parts = featurize_parts(dataset.mols, {p for m in SHIPPED_MEMBERS for p in m.features})
    print(f"standardised and featurised ({time.perf_counter() - started:.0f} s)", flush=True)
    stored: dict[str, np.ndarray] = {}
    for member in SHIPPED_MEMBERS:
        cv = cross_validate_member(
            member, member_matrix(parts, member), dataset.labels, folds, SELECTION_SEED, print
        )
        stored[f"member_{member.name}"] = cv.oof
    network = cross_validate_network(network_matrix(dataset.mols, parts), dataset.labels, folds)
    stored.update({f"network_seed{s}": p for s, p in zip(NETWORK_SEEDS, network.per_seed, strict=True)})
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        out,
        labels=dataset.labels,
        folds=folds,
        smiles=np.array(dataset.smiles),
        rdkit_2d=parts["rdkit_2d"],
        **stored,  # type: ignore[arg-type]  # numpy stubs read **kwargs as allow_pickle
    )
    print(f"members stored in {out} ({time.perf_counter() - started:.0f} s)", flush=True)


def _graph_fold(task: tuple[str, int, int, GraphConfig]) -> tuple[int, np.ndarray, float]:
    """One training fold: fit on the other folds' molecules, predict this fold's; wall seconds too."""
    path, fold, seed, config = task
    stored = np.load(path)
    mols = [Chem.MolFromSmiles(str(s)) for s in stored["smiles"]]
    train = stored["folds"] != fold
    started = time.perf_counter()
    graphs = {
        side: MoleculeGraphs.from_mols([m for m, t in zip(mols, train, strict=True) if t == side])
        for side in (True, False)
    }
    quantiles = fit_descriptor_quantiles(stored["rdkit_2d"][train])
    descriptors = {
        side: scale_descriptors(stored["rdkit_2d"][train == side], quantiles) for side in (True, False)
    }
    model = train_graph(graphs[True], descriptors[True], stored["labels"][train], config, seed)
    predictions = predict_graph(model, graphs[False], descriptors[False])
    seconds = time.perf_counter() - started
    print(f"  fold {fold} seed {seed}: {seconds:.0f} s", flush=True)
    return fold, predictions, seconds


def cross_validate_graph(members: Path, seed: int, config: GraphConfig, workers: int) -> dict[str, Any]:
    stored = np.load(members)
    labels, folds = stored["labels"], stored["folds"]
    oof = np.full(labels.shape, np.nan)
    tasks = [(str(members), int(k), seed, config) for k in np.unique(folds)]
    seconds = {}
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        for fold, predictions, elapsed in pool.map(_graph_fold, tasks):
            oof[folds == fold] = predictions
            seconds[fold] = round(elapsed, 1)
    return {"oof": oof, "fold_seconds": seconds}


def report(members: Path, graph_runs: dict[str, list[Path]]) -> dict[str, Any]:
    """The 2.2.0 blend, each graph variant alone, and the blend with the graph at fixed and nested weights."""
    stored = np.load(members)
    labels, folds = stored["labels"], stored["folds"]
    trees = np.mean([stored[k] for k in stored.files if k.startswith("member_")], axis=0)
    network = np.mean([stored[k] for k in stored.files if k.startswith("network_seed")], axis=0)
    blend = shipped_blend(trees, network)
    reference = per_fold(blend, labels, folds)
    rows = {
        "trees (3 boosters)": paired_row(trees, reference, labels, folds),
        "network (3 seeds)": paired_row(network, reference, labels, folds),
        "blend 2.2.0 (network 0.25)": paired_row(blend, reference, labels, folds),
    }
    for name, paths in graph_runs.items():
        seeds = [np.load(p) for p in paths]
        graph = np.mean(seeds, axis=0)
        rows[f"{name} alone ({len(seeds)} seeds)"] = paired_row(graph, reference, labels, folds)
        for k, single in enumerate(seeds):
            rows[f"{name} alone, seed file {k}"] = paired_row(single, reference, labels, folds)
        for weight in (0.1, 0.2, 0.3, 0.4, 0.5):
            mixed = (1 - weight) * blend + weight * graph
            rows[f"blend + {name} at {weight}"] = paired_row(mixed, reference, labels, folds)
        nested = nested_weight(blend, graph, labels, folds, per_endpoint=False)
        rows[f"blend + {name}, weight nested (grid 0.05)"] = paired_row(nested, reference, labels, folds)
        four = (1 - NETWORK_WEIGHT) * (3 * trees + graph) / 4 + NETWORK_WEIGHT * network
        rows[f"{name} as a fourth tree-side member"] = paired_row(four, reference, labels, folds)
    runs = {
        str(path): json.loads(path.with_suffix(".json").read_text())
        for paths in graph_runs.values()
        for path in paths
        if path.with_suffix(".json").exists()
    }
    return {
        "fold_seed": SELECTION_SEED,
        "reference": "blend 2.2.0 (network 0.25)",
        "rows": rows,
        "runs": runs,
    }


def serving_check(members: Path, batch: int = 256, repeats: int = 5) -> dict[str, Any]:
    """ONNX export, ONNX Runtime vs torch agreement on two batch sizes, and the cost per molecule.

    The weights are untrained (agreement and cost do not depend on them); descriptors are the CDF-scaled
    rdkit_2d columns the boosters already compute at serving, so their cost is not counted again.
    """
    import onnxruntime as ort

    stored = np.load(members)
    smiles = [str(s) for s in stored["smiles"][:batch]]
    descriptors = scale_descriptors(stored["rdkit_2d"][:batch], fit_descriptor_quantiles(stored["rdkit_2d"]))
    torch.manual_seed(0)
    model = DirectedMPNN(stored["labels"].shape[1], descriptors.shape[1], GraphConfig()).eval()

    def inputs(rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        graphs = MoleculeGraphs.from_mols([Chem.MolFromSmiles(smiles[i]) for i in rows])
        return tuple(torch.from_numpy(a) for a in (*graphs.batch(np.arange(len(rows))), descriptors[rows]))

    every = np.arange(batch)
    example = MoleculeGraphs.from_mols([Chem.MolFromSmiles(s) for s in smiles[:4]])
    onnx_bytes = export_graph_onnx(model, example, descriptors[:4])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    agreement = {}
    for rows in (every[:3], every):
        tensors = inputs(rows)
        with torch.no_grad():
            expected = torch.sigmoid(model(*tensors)).numpy()
        got = session.run(None, {n: t.numpy() for n, t in zip(GRAPH_INPUTS, tensors, strict=True)})[0]
        agreement[f"batch_{len(rows)}_max_abs_diff"] = float(np.abs(got - expected).max())
    timings: dict[str, list[float]] = {"featurise": [], "onnxruntime": [], "torch": []}
    for _ in range(repeats):
        started = time.perf_counter()
        tensors = inputs(every)
        timings["featurise"].append(time.perf_counter() - started)
        feed = {n: t.numpy() for n, t in zip(GRAPH_INPUTS, tensors, strict=True)}
        started = time.perf_counter()
        session.run(None, feed)
        timings["onnxruntime"].append(time.perf_counter() - started)
        started = time.perf_counter()
        with torch.no_grad():
            model(*tensors)
        timings["torch"].append(time.perf_counter() - started)
    return {
        "onnx_bytes": len(onnx_bytes),
        "opset": 17,
        **agreement,
        **{f"{k}_ms_per_molecule": round(1000 * float(np.median(v)) / batch, 3) for k, v in timings.items()},
        "batch": batch,
        "threads": 1,
    }


def main(argv: list[str] | None = None) -> None:
    parser, cv = selection_cli(__doc__.splitlines()[0])
    cv.add_argument("--seed", type=int, default=0)
    cv.add_argument("--epochs", type=int, default=GraphConfig.epochs)
    cv.add_argument("--hidden", type=int, default=GraphConfig.hidden)
    cv.add_argument("--depth", type=int, default=GraphConfig.depth)
    cv.add_argument("--dropout", type=float, default=GraphConfig.dropout)
    cv.add_argument("--out", type=Path, default=None, help="cv: out-of-fold .npy (timings beside it)")
    cv.add_argument("--report", nargs="*", default=None, help="NAME=OOF.npy[,OOF.npy...]: compare instead")
    cv.add_argument("--serving", action="store_true", help="ONNX export and serving cost instead")
    args = parser.parse_args(argv)
    if args.step == "features":
        write_members(args.out, args.data)
    elif args.serving:
        result = serving_check(args.features)
        print(json.dumps(result, indent=1))
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
    elif args.report is not None:
        runs = {
            name: [Path(p) for p in paths.split(",")]
            for name, paths in (g.split("=", 1) for g in args.report)
        }
        result = report(args.features, runs)
        print_rows(result["rows"])
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
    elif args.out is None:
        parser.error("cv needs --out")
    else:
        config = GraphConfig(args.hidden, args.depth, args.hidden, args.dropout, args.epochs)
        result = cross_validate_graph(args.features, args.seed, config, args.workers)
        np.save(args.out, result["oof"])
        timing = {"config": asdict(config), "seed": args.seed, "fold_seconds": result["fold_seconds"]}
        args.out.with_suffix(".json").write_text(json.dumps(timing) + "\n")


if __name__ == "__main__":
    main()
