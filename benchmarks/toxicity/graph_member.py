"""Research for issue #12: does a graph network member (Chemprop-style D-MPNN) add to the 2.2.0 blend?

    python -m benchmarks.toxicity.graph_member features --out var/graph-members.npz
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz --seed 0 \
        [--descriptors] [--epochs 30] [--workers 2] --out var/graph-desc-s0.npy
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz \
        --report dmpnn_rdkit2d=var/graph-desc-s0.npy,var/graph-desc-s1.npy --json OUT.json
    python -m benchmarks.toxicity.graph_member cv --features var/graph-members.npz --serving

Every member is scored on the selection folds (fold seed 0, as in `model_selection`), so the answer is
not read off the folds the shipped card reports. `features` stores the shipped members' out-of-fold
predictions once (the three boosters and three network seeds, ~12 min); `cv` trains the
D-MPNN per fold (~7 min a fold on one core); `--report` compares the blend with and without it by
paired per-fold differences (the folds differ in chemistry far more than models do, so only the
paired difference is informative); `--serving` checks the ONNX export and its cost, which decides
whether such a member could ship at all.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rdkit import Chem
from torch import nn

from benchmarks.toxicity.blending import nested_weight
from benchmarks.toxicity.model_selection import SELECTION_SEED, selection_cli
from hygeia.toxicity.evaluation import fold_metrics

SHIPPED_NETWORK_WEIGHT = 0.25


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


# Chemprop's atom and bond descriptions, with the element list cut to what `molecules.prepare` admits.
ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "Si", "B", "Se", "H")
HYBRIDISATIONS = tuple(Chem.HybridizationType.values[k] for k in (1, 2, 3, 4, 5, 6))  # S .. SP3D2
BOND_TYPES = (Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC)


def one_hot(value: Any, choices: Sequence[Any]) -> list[float]:
    """One slot per choice plus an "other" slot, so an unseen value is still a valid input."""
    slots = [0.0] * (len(choices) + 1)
    slots[choices.index(value) if value in choices else len(choices)] = 1.0
    return slots


def atom_features(atom: Chem.Atom) -> list[float]:
    return [
        *one_hot(atom.GetSymbol(), ELEMENTS),
        *one_hot(atom.GetTotalDegree(), list(range(6))),
        *one_hot(atom.GetFormalCharge(), [-2, -1, 0, 1, 2]),
        *one_hot(int(atom.GetChiralTag()), list(range(4))),
        *one_hot(atom.GetTotalNumHs(), list(range(5))),
        *one_hot(atom.GetHybridization(), list(HYBRIDISATIONS)),
        float(atom.GetIsAromatic()),
        atom.GetMass() / 100,
    ]


def bond_features(bond: Chem.Bond) -> list[float]:
    return [
        *one_hot(bond.GetBondType(), list(BOND_TYPES)),
        float(bond.GetIsConjugated()),
        float(bond.IsInRing()),
        *one_hot(int(bond.GetStereo()), list(range(6))),
    ]


ATOM_DIM = len(atom_features(Chem.MolFromSmiles("C").GetAtomWithIdx(0)))
BOND_DIM = len(bond_features(Chem.MolFromSmiles("CC").GetBondWithIdx(0)))


@dataclass
class MoleculeGraphs:
    """Every molecule's graph in flat arrays, so a mini-batch is a few slices and one offset add.

    Molecule i owns atoms atom_start[i]:atom_start[i+1] and directed bonds bond_start[i]:bond_start[i+1];
    directed bonds come in pairs (2k: u->v, 2k+1: v->u), so the reverse of every message is found by
    swapping neighbours, with no index to carry into the ONNX graph.
    """

    atoms: np.ndarray
    bonds: np.ndarray
    source: np.ndarray  # atom index within its molecule
    target: np.ndarray
    atom_start: np.ndarray
    bond_start: np.ndarray

    @classmethod
    def from_mols(cls, mols: Sequence[Chem.Mol]) -> MoleculeGraphs:
        atoms: list[list[float]] = []
        bonds: list[list[float]] = []
        source: list[int] = []
        target: list[int] = []
        n_atoms, n_bonds = [0], [0]
        for mol in mols:
            atoms.extend(atom_features(a) for a in mol.GetAtoms())
            for bond in mol.GetBonds():
                u, v, features = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond_features(bond)
                bonds.extend((features, features))
                source.extend((u, v))
                target.extend((v, u))
            n_atoms.append(mol.GetNumAtoms())
            n_bonds.append(2 * mol.GetNumBonds())
        return cls(
            np.asarray(atoms, dtype=np.float32),
            np.asarray(bonds, dtype=np.float32).reshape(-1, BOND_DIM),
            np.asarray(source, dtype=np.int64),
            np.asarray(target, dtype=np.int64),
            np.cumsum(n_atoms),
            np.cumsum(n_bonds),
        )

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        """(atoms, bonds, source, target, atom_molecule, atom_counts): the model's graph inputs."""
        atom_rows = np.concatenate([np.arange(self.atom_start[i], self.atom_start[i + 1]) for i in rows])
        bond_rows = np.concatenate([np.arange(self.bond_start[i], self.bond_start[i + 1]) for i in rows])
        atom_counts = self.atom_start[rows + 1] - self.atom_start[rows]
        bond_counts = self.bond_start[rows + 1] - self.bond_start[rows]
        offsets = np.repeat(np.cumsum(atom_counts) - atom_counts, bond_counts)
        return (
            torch.from_numpy(self.atoms[atom_rows]),
            torch.from_numpy(self.bonds[bond_rows]),
            torch.from_numpy(self.source[bond_rows] + offsets),
            torch.from_numpy(self.target[bond_rows] + offsets),
            torch.from_numpy(np.repeat(np.arange(len(rows)), atom_counts)),
            torch.from_numpy(atom_counts.astype(np.float32)),
        )


@dataclass(frozen=True)
class GraphConfig:
    """Chemprop's defaults (hidden 300, depth 3, mean readout), dropout as its Tox21 examples use."""

    hidden: int = 300
    depth: int = 3
    ffn_hidden: int = 300
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 50
    learning_rate: float = 1e-3
    descriptors: bool = False


def sum_into(values: torch.Tensor, index: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """Sum `values` rows into `rows.shape[0]` slots; scatter_add exports as ONNX ScatterElements(add)."""
    out = values.new_zeros((rows.shape[0], values.shape[1]))
    return out.scatter_add(0, index.unsqueeze(1).expand(-1, values.shape[1]), values)


class DirectedMPNN(nn.Module):
    """Chemprop's D-MPNN: hidden states live on directed bonds, and a bond's message excludes its
    own reverse, so information does not echo straight back along the edge it came from."""

    def __init__(self, n_tasks: int, n_descriptors: int, config: GraphConfig) -> None:
        super().__init__()
        self.depth, self.hidden = config.depth, config.hidden
        self.w_input = nn.Linear(ATOM_DIM + BOND_DIM, config.hidden, bias=False)
        self.w_hidden = nn.Linear(config.hidden, config.hidden, bias=False)
        self.w_output = nn.Linear(ATOM_DIM + config.hidden, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.readout = nn.Sequential(
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden + n_descriptors, config.ffn_hidden),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ffn_hidden, n_tasks),
        )

    def forward(
        self,
        atoms: torch.Tensor,
        bonds: torch.Tensor,
        source: torch.Tensor,
        target: torch.Tensor,
        atom_molecule: torch.Tensor,
        atom_counts: torch.Tensor,
        descriptors: torch.Tensor | None = None,
    ) -> torch.Tensor:
        first = self.w_input(torch.cat([atoms[source], bonds], dim=1))
        state = torch.relu(first)
        for _ in range(self.depth - 1):
            reverse = state.reshape(-1, 2, self.hidden).flip(1).reshape(-1, self.hidden)
            message = sum_into(state, target, atoms)[source] - reverse
            state = self.dropout(torch.relu(first + self.w_hidden(message)))
        atom_state = torch.cat([atoms, sum_into(state, target, atoms)], dim=1)
        atom_state = self.dropout(torch.relu(self.w_output(atom_state)))
        molecule = sum_into(atom_state, atom_molecule, atom_counts) / atom_counts.unsqueeze(1)
        if descriptors is not None:
            molecule = torch.cat([molecule, descriptors], dim=1)
        return self.readout(molecule)


class DescriptorScaler:
    """Each descriptor mapped through its training-fold empirical CDF, as Chemprop's
    rdkit_2d_normalized does with a CDF fitted offline; NaN goes to the median (0.5)."""

    def __init__(self, train: np.ndarray) -> None:
        self.quantiles = np.nanquantile(train.astype(np.float64), np.linspace(0, 1, 101), axis=0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        levels = np.linspace(0, 1, 101)
        out = np.column_stack([np.interp(x[:, j], self.quantiles[:, j], levels) for j in range(x.shape[1])])
        return np.where(np.isnan(x), 0.5, out).astype(np.float32)


def train_graph(
    graphs: MoleculeGraphs,
    labels: np.ndarray,
    descriptors: np.ndarray | None,
    config: GraphConfig,
    seed: int,
) -> DirectedMPNN:
    """Adam with Chemprop's schedule shape: linear warm-up over two epochs, then exponential decay to
    a tenth of the peak rate; untested labels are masked out of the loss, never read as inactive."""
    from hygeia.toxicity.network import masked_bce

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_descriptors = 0 if descriptors is None else descriptors.shape[1]
    model = DirectedMPNN(labels.shape[1], n_descriptors, config)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
    per_epoch = -(-len(labels) // config.batch_size)
    warmup, total = 2 * per_epoch, config.epochs * per_epoch

    def rate(step: int) -> float:
        if step < warmup:
            return 0.1 + 0.9 * step / warmup
        return float(0.1 ** ((step - warmup) / max(total - warmup, 1)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, rate)
    y = torch.as_tensor(labels, dtype=torch.float32)
    extra = None if descriptors is None else torch.as_tensor(descriptors)
    model.train()
    for _ in range(config.epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(order), config.batch_size):
            rows = order[start : start + config.batch_size]
            optimiser.zero_grad()
            logits = model(*graphs.batch(rows), None if extra is None else extra[rows])
            masked_bce(logits, y[rows]).backward()
            optimiser.step()
            schedule.step()
    model.eval()
    return model


@torch.no_grad()
def predict_graph(
    model: DirectedMPNN, graphs: MoleculeGraphs, descriptors: np.ndarray | None, batch: int = 256
) -> np.ndarray:
    model.eval()
    out = []
    for start in range(0, len(graphs.atom_start) - 1, batch):
        rows = np.arange(start, min(start + batch, len(graphs.atom_start) - 1))
        extra = None if descriptors is None else torch.as_tensor(descriptors[rows])
        out.append(torch.sigmoid(model(*graphs.batch(rows), extra)).numpy())
    return np.concatenate(out).astype(np.float64)


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
    descriptors: dict[bool, np.ndarray | None] = {True: None, False: None}
    if config.descriptors:
        scaler = DescriptorScaler(stored["rdkit_2d"][train])
        descriptors = {side: scaler(stored["rdkit_2d"][train == side]) for side in (True, False)}
    model = train_graph(graphs[True], stored["labels"][train], descriptors[True], config, seed)
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


def _per_fold(oof: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Mean over endpoints within each fold (every endpoint has both classes in every fold here)."""
    table = fold_metrics(oof, labels, folds)
    return {m: np.mean([v[m] for v in table.values()], axis=0) for m in ("roc_auc", "pr_auc")}


def _row(
    oof: np.ndarray, reference: dict[str, np.ndarray], labels: np.ndarray, folds: np.ndarray
) -> dict[str, Any]:
    """Headline means plus the paired per-fold difference from the reference blend and its SE."""
    scores = _per_fold(oof, labels, folds)
    row: dict[str, Any] = {}
    for metric, values in scores.items():
        diff = values - reference[metric]
        row[metric] = round(float(values.mean()), 4)
        row[f"{metric}_folds"] = [round(float(v), 4) for v in values]
        row[f"{metric}_diff"] = round(float(diff.mean()), 4)
        row[f"{metric}_diff_se"] = round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4)
    return row


def report(members: Path, graph_runs: dict[str, list[Path]]) -> dict[str, Any]:
    """The 2.2.0 blend, each graph variant alone, and the blend with the graph at fixed and nested weights."""
    stored = np.load(members)
    labels, folds = stored["labels"], stored["folds"]
    trees = np.mean([stored[k] for k in stored.files if k.startswith("member_")], axis=0)
    network = np.mean([stored[k] for k in stored.files if k.startswith("network_seed")], axis=0)
    blend = (1 - SHIPPED_NETWORK_WEIGHT) * trees + SHIPPED_NETWORK_WEIGHT * network
    reference = _per_fold(blend, labels, folds)
    rows = {
        "trees (3 boosters)": _row(trees, reference, labels, folds),
        "network (3 seeds)": _row(network, reference, labels, folds),
        "blend 2.2.0 (network 0.25)": _row(blend, reference, labels, folds),
    }
    for name, paths in graph_runs.items():
        seeds = [np.load(p) for p in paths]
        graph = np.mean(seeds, axis=0)
        rows[f"{name} alone ({len(seeds)} seeds)"] = _row(graph, reference, labels, folds)
        for k, single in enumerate(seeds):
            rows[f"{name} alone, seed file {k}"] = _row(single, reference, labels, folds)
        for weight in (0.1, 0.2, 0.3, 0.4, 0.5):
            mixed = (1 - weight) * blend + weight * graph
            rows[f"blend + {name} at {weight}"] = _row(mixed, reference, labels, folds)
        nested = nested_weight(blend, graph, labels, folds, per_endpoint=False)
        rows[f"blend + {name}, weight nested (grid 0.05)"] = _row(nested, reference, labels, folds)
        four = (1 - SHIPPED_NETWORK_WEIGHT) * (3 * trees + graph) / 4 + SHIPPED_NETWORK_WEIGHT * network
        rows[f"{name} as a fourth tree-side member"] = _row(four, reference, labels, folds)
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


class _Probabilities(nn.Module):
    """What serving would run: the graph and (optionally) the CDF-scaled descriptors in, probabilities out."""

    def __init__(self, model: DirectedMPNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(*inputs))


GRAPH_INPUTS = ("atoms", "bonds", "source", "target", "atom_molecule", "atom_counts", "descriptors")


def export_graph_onnx(model: DirectedMPNN, example: tuple[torch.Tensor, ...]) -> bytes:
    """Legacy (TorchScript) exporter as `network.export_onnx` uses; every first axis is dynamic."""
    import io

    names = list(GRAPH_INPUTS[: len(example)])
    buffer = io.BytesIO()
    torch.onnx.export(
        _Probabilities(model).eval(),
        example,
        buffer,  # type: ignore[arg-type]  # torch stubs omit file objects; as in network.py
        input_names=names,
        output_names=["probabilities"],
        dynamic_axes={**{n: {0: n} for n in names}, "probabilities": {0: "molecules"}},
        opset_version=17,
        dynamo=False,
    )
    return buffer.getvalue()


def serving_check(members: Path, batch: int = 256, repeats: int = 5) -> dict[str, Any]:
    """ONNX export, ONNX Runtime vs torch agreement on two batch sizes, and the cost per molecule.

    The weights are untrained (agreement and cost do not depend on them); descriptors are the CDF-scaled
    rdkit_2d columns the boosters already compute at serving, so their cost is not counted again.
    """
    import onnxruntime as ort

    stored = np.load(members)
    smiles = [str(s) for s in stored["smiles"][:batch]]
    scaler = DescriptorScaler(stored["rdkit_2d"])
    descriptors = scaler(stored["rdkit_2d"][:batch])
    torch.manual_seed(0)
    model = DirectedMPNN(stored["labels"].shape[1], descriptors.shape[1], GraphConfig()).eval()

    def inputs(rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        graphs = MoleculeGraphs.from_mols([Chem.MolFromSmiles(smiles[i]) for i in rows])
        return (*graphs.batch(np.arange(len(rows))), torch.as_tensor(descriptors[rows]))

    every = np.arange(batch)
    onnx_bytes = export_graph_onnx(model, inputs(every[:4]))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
    agreement = {}
    for rows in (every[:3], every):
        tensors = inputs(rows)
        with torch.no_grad():
            expected = _Probabilities(model)(*tensors).numpy()
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


def _print_rows(rows: dict[str, dict[str, Any]]) -> None:
    for name, row in rows.items():
        roc = f"ROC {row['roc_auc']:.4f} ({row['roc_auc_diff']:+.4f} ± {row['roc_auc_diff_se']:.4f})"
        pr = f"PR {row['pr_auc']:.4f} ({row['pr_auc_diff']:+.4f} ± {row['pr_auc_diff_se']:.4f})"
        print(f"{name:50s} {roc}  {pr}")


def main(argv: list[str] | None = None) -> None:
    parser, cv = selection_cli(__doc__.splitlines()[0])
    cv.add_argument("--seed", type=int, default=0)
    cv.add_argument("--epochs", type=int, default=GraphConfig.epochs)
    cv.add_argument("--hidden", type=int, default=GraphConfig.hidden)
    cv.add_argument("--depth", type=int, default=GraphConfig.depth)
    cv.add_argument("--dropout", type=float, default=GraphConfig.dropout)
    cv.add_argument("--descriptors", action="store_true", help="Chemprop's rdkit_2d_normalized")
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
        _print_rows(result["rows"])
        if args.json:
            args.json.write_text(json.dumps(result, indent=1) + "\n")
    elif args.out is None:
        parser.error("cv needs --out")
    else:
        config = GraphConfig(
            args.hidden, args.depth, args.hidden, args.dropout, args.epochs, descriptors=args.descriptors
        )
        result = cross_validate_graph(args.features, args.seed, config, args.workers)
        np.save(args.out, result["oof"])
        timing = {"config": asdict(config), "seed": args.seed, "fold_seconds": result["fold_seconds"]}
        args.out.with_suffix(".json").write_text(json.dumps(timing) + "\n")


if __name__ == "__main__":
    main()
