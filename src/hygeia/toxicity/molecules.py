"""From user-supplied SMILES to the standardised parent molecule the models were trained on.

Every rejection carries a stable `code` (for programs) and a `message` (for people), so a batch can
report exactly which rows failed and why instead of dropping them. The same pipeline runs at training
and at prediction time: a model only sees molecules in the form it learned from.

Order matters: salts are split off *before* the element check, so sodium acetate is accepted as
acetate, while tributyltin chloride stays rejected because tin sits in the parent itself.

The chemistry scope (`ORGANIC_SCOPE`) also refuses what stripping would misrepresent: an input holding
any metal other than the alkali and alkaline-earth counter-ions (cisplatin is not ammonia, cadmium
acetate is not acetic acid, ziram is not dimethyldithiocarbamic acid: the metal can carry the
activity), and a parent without carbon (potassium iodide, ammonium nitrate): inorganic chemistry the
fingerprints cannot describe. It also passes over a listed counter-ion (ChEMBL's salts and solvents)
that outweighs a small active compound: 8-hydroxyquinoline citrate is 8-hydroxyquinoline. Toxicity
models up to 2.6.0 and 2.10.0-2.13.0 (to keep 2.6.0's folds) were trained under `LARGEST_FRAGMENT_SCOPE`,
which kept the largest organic fragment of such inputs; their training set is rebuilt with it only to
stay aligned with their stored arrays (see `read_across.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache, reduce
from importlib import resources

from rdkit import Chem, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

from hygeia.toxicity import ORGANIC_SCOPE

MAX_SMILES_LENGTH = 1_000
MAX_HEAVY_ATOMS = 150
ALLOWED_ELEMENTS = frozenset({"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I"})
# Alkali / alkaline-earth bonds are ionic in reality; drawn as covalent (CC(=O)O[Na]) they must still
# split off as counter-ions. Transition-metal bonds are left alone so organometallics get rejected.
_SALT_METALS = "Li,Na,K,Rb,Cs,Mg,Ca,Sr,Ba"
MAX_TAUTOMERS = 50  # bounds canonical-tautomer enumeration: ~2 ms per molecule instead of ~12 ms

EMPTY, TOO_LONG, UNPARSEABLE = "empty", "too_long", "unparseable"
TOO_MANY_ATOMS, DISALLOWED_ELEMENT, INORGANIC, RADICAL, STANDARDISATION_FAILED = (
    "too_many_heavy_atoms",
    "disallowed_element",
    "inorganic",
    "radical",
    "standardisation_failed",
)
_COUNTER_ION_ELEMENTS = frozenset(_SALT_METALS.split(","))


@dataclass(frozen=True)
class MoleculeRejection:
    """Why one input could not be turned into a model-ready molecule."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class StandardisedMolecule:
    """The parent molecule the models see, and its canonical SMILES (the de-duplication key)."""

    mol: Chem.Mol
    smiles: str


class _Standardiser:
    """RDKit standardisation objects are costly to build; one set is reused for every molecule."""

    def __init__(self) -> None:
        self.salt_disconnector = rdMolStandardize.MetalDisconnector()
        self.salt_disconnector.SetMetalNof(Chem.MolFromSmarts(f"[{_SALT_METALS}]~[#7,#8,#9]"))
        self.salt_disconnector.SetMetalNon(
            Chem.MolFromSmarts(f"[{_SALT_METALS}]~[#5,#6,#14,#15,#16,#17,#34,#35,#53]")
        )
        self.fragment_chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
        # what rdMolStandardize.Cleanup builds anew for every molecule (see `cleanup`)
        self.metal_disconnector = rdMolStandardize.MetalDisconnector()
        self.normalizer = rdMolStandardize.Normalizer()
        self.reionizer = rdMolStandardize.Reionizer()
        self.uncharger = rdMolStandardize.Uncharger(canonicalOrder=True)
        params = rdMolStandardize.CleanupParameters()
        params.maxTautomers = MAX_TAUTOMERS  # type: ignore[assignment]  # RDKit stubs mis-type these
        params.maxTransforms = MAX_TAUTOMERS  # type: ignore[assignment]
        self.tautomers = rdMolStandardize.TautomerEnumerator(params)

    def parent(self, mol: Chem.Mol, scope: str) -> Chem.Mol:
        """Largest organic fragment after splitting ionic salt bonds: the counter-ions are gone. Under
        `ORGANIC_SCOPE` a listed counter-ion or solvent is passed over while another organic fragment
        remains (8-hydroxyquinoline citrate is 8-hydroxyquinoline, not citric acid)."""
        split = self.salt_disconnector.Disconnect(mol)
        if scope == ORGANIC_SCOPE and len(Chem.GetMolFrags(split)) > 1:
            fragments = Chem.GetMolFrags(split, asMols=True)
            kept = [f for f in fragments if _connectivity(f) not in _counter_ions()]
            if any(_has_carbon(f) for f in kept) and len(kept) < len(fragments):
                split = reduce(Chem.CombineMols, kept)
        return self.fragment_chooser.choose(split)

    def cleanup(self, parent: Chem.Mol) -> Chem.Mol:
        """`rdMolStandardize.Cleanup` with default parameters, step for step (RDKit's cleanupInPlace),
        on the objects built once above: Cleanup parses its normalisation and reionisation SMARTS
        again for every molecule, about half of its time. The output is the same (tested against
        Cleanup itself)."""
        cleaned = Chem.RemoveHs(parent)
        self.metal_disconnector.DisconnectInPlace(cleaned)
        self.normalizer.normalizeInPlace(cleaned)
        self.reionizer.reionizeInPlace(cleaned)
        Chem.AssignStereochemistry(cleaned, cleanIt=True, force=True)
        return cleaned

    def standardise(self, parent: Chem.Mol) -> tuple[Chem.Mol, str] | None:
        """Normalise functional groups, then neutralise and pick the canonical tautomer.

        The last two steps are refinements. Where they fail or yield a form whose SMILES RDKit cannot
        read back (mesoionic molsidomine; the lone cyclopentadienide of a metallocene) the cleaned
        form is tried instead; None if neither round-trips. The returned molecule is re-read from its
        canonical SMILES, so anyone holding that SMILES gets exactly the molecule the model saw.
        """
        cleaned = self.cleanup(parent)
        refined = cleaned
        for step in (self.uncharger.uncharge, self.tautomers.Canonicalize):
            try:
                refined = step(refined)
            except Exception:  # RDKit raises kekulisation / valence errors of several types
                continue
        for candidate in (refined, cleaned):
            smiles = Chem.MolToSmiles(candidate)
            reread = Chem.MolFromSmiles(smiles)
            if reread is not None:
                return reread, smiles
        return None


@lru_cache(maxsize=1)
def _standardiser() -> _Standardiser:
    return _Standardiser()


@lru_cache(maxsize=1)
def _counter_ions() -> frozenset[str]:
    """InChIKey connectivity blocks (charge and stereo aside) of the organic counter-ions and solvents
    the ChEMBL structure pipeline strips (its curated salts.smi and solvents.smi)."""
    blocks = set()
    for name in ("salts.smi", "solvents.smi"):
        text = resources.files("chembl_structure_pipeline").joinpath("data", name).read_text()
        for line in text.splitlines():
            fields = line.split("\t")
            mol = Chem.MolFromSmiles(fields[-1]) if len(fields) == 2 else None
            if mol is not None and _has_carbon(mol):
                blocks.add(_connectivity(mol))
    return frozenset(blocks)


def _connectivity(mol: Chem.Mol) -> str:
    with rdBase.BlockLogs():
        return str(Chem.MolToInchiKey(mol))[:14]


def _has_carbon(mol: Chem.Mol) -> bool:
    return any(atom.GetAtomicNum() == 6 for atom in mol.GetAtoms())


def parse_smiles(smiles: str) -> Chem.Mol | MoleculeRejection:
    """Parse and sanitise, keeping RDKit's own reason (e.g. a valence error) in the message."""
    text = (smiles or "").strip()
    if not text:
        return MoleculeRejection(EMPTY, "SMILES is empty")
    if len(text) > MAX_SMILES_LENGTH:
        return MoleculeRejection(
            TOO_LONG, f"SMILES has {len(text)} characters; the limit is {MAX_SMILES_LENGTH}"
        )
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(text, sanitize=False)
        if mol is None:
            return MoleculeRejection(UNPARSEABLE, f"RDKit cannot parse SMILES {_clip(text)!r}")
        try:
            Chem.SanitizeMol(mol)
        except Exception as exc:  # RDKit raises several unrelated exception types here
            return MoleculeRejection(UNPARSEABLE, f"invalid molecule {_clip(text)!r}: {exc}")
    return mol


def standardise_mol(mol: Chem.Mol, scope: str = ORGANIC_SCOPE) -> StandardisedMolecule | MoleculeRejection:
    """Checks and standardisation for an already-parsed molecule (SMILES or an SDF record)."""
    if scope == ORGANIC_SCOPE and (metal := metal_rejection(mol)) is not None:
        return metal
    tools = _standardiser()
    try:
        with rdBase.BlockLogs():
            parent = tools.parent(mol, scope)
    except Exception as exc:
        return MoleculeRejection(STANDARDISATION_FAILED, f"could not split fragments: {exc}")
    rejection = _check_parent(parent)
    if rejection is None and scope == ORGANIC_SCOPE:
        rejection = inorganic_rejection(parent) or radical_rejection(parent)
    if rejection is not None:
        return rejection
    try:
        with rdBase.BlockLogs():
            standard = tools.standardise(parent)
    except Exception as exc:
        return MoleculeRejection(STANDARDISATION_FAILED, f"RDKit standardisation failed: {exc}")
    if standard is None:
        return MoleculeRejection(
            STANDARDISATION_FAILED,
            "the standardised parent is not a valid molecule (e.g. a lone metal ligand)",
        )
    return StandardisedMolecule(*standard)


def prepare(smiles: str, scope: str = ORGANIC_SCOPE) -> StandardisedMolecule | MoleculeRejection:
    """SMILES text to the model-ready parent molecule, or the reason it cannot be one."""
    parsed = parse_smiles(smiles)
    if isinstance(parsed, MoleculeRejection):
        return parsed
    return standardise_mol(parsed, scope)


def metal_rejection(mol: Chem.Mol) -> MoleculeRejection | None:
    """A metal anywhere in the input other than an alkali or alkaline-earth counter-ion: the
    compound is a metal complex or a metal's salt, and its organic ligand alone is another compound."""
    metals = sorted({a.GetSymbol() for a in mol.GetAtoms()} - ALLOWED_ELEMENTS - _COUNTER_ION_ELEMENTS)
    if not metals:
        return None
    return MoleculeRejection(
        DISALLOWED_ELEMENT,
        f"outside the model's chemistry: contains {', '.join(metals)}; the models cover organic molecules "
        f"made of {', '.join(sorted(ALLOWED_ELEMENTS))} and remove only {_SALT_METALS.replace(',', ', ')} "
        "counter-ions (a metal complex or salt is not its organic part: the metal can carry the activity)",
    )


def inorganic_rejection(parent: Chem.Mol) -> MoleculeRejection | None:
    if _has_carbon(parent):
        return None
    return MoleculeRejection(
        INORGANIC,
        f"outside the model's chemistry: the parent {_clip(Chem.MolToSmiles(parent))!r} has no carbon; "
        "the models cover organic molecules",
    )


def radical_rejection(parent: Chem.Mol) -> MoleculeRejection | None:
    """Unpaired electrons anywhere but a nitroxide's oxygen (TEMPO, which Tox21 tested): no Tox21
    compound is such a radical, and one typed by hand is nearly always a bracket atom written without
    its hydrogens ("C[CH2]" for ethane's "CC", "[C]" for methane), which RDKit reads literally."""
    radicals = [
        atom for atom in parent.GetAtoms() if atom.GetNumRadicalElectrons() and not _nitroxide_oxygen(atom)
    ]
    if not radicals:
        return None
    elements = ", ".join(sorted({a.GetSymbol() for a in radicals}))
    return MoleculeRejection(
        RADICAL,
        f"outside the model's chemistry: unpaired electrons on {len(radicals)} atom(s) ({elements}); the "
        "models cover closed-shell molecules. A bracket atom takes only the hydrogens written inside it: "
        "write [CH3] or C, not [CH2], for a methyl group",
    )


def _nitroxide_oxygen(atom: Chem.Atom) -> bool:
    neighbours = atom.GetNeighbors()
    return atom.GetSymbol() == "O" and len(neighbours) == 1 and neighbours[0].GetSymbol() == "N"


def _check_parent(parent: Chem.Mol) -> MoleculeRejection | None:
    """Size and element limits apply to the parent, so a large counter-ion does not reject a drug."""
    if parent.GetNumAtoms() == 0:
        return MoleculeRejection(EMPTY, "molecule has no atoms")
    heavy = parent.GetNumHeavyAtoms()
    if heavy > MAX_HEAVY_ATOMS:
        return MoleculeRejection(
            TOO_MANY_ATOMS, f"parent molecule has {heavy} heavy atoms; the limit is {MAX_HEAVY_ATOMS}"
        )
    elements = {atom.GetSymbol() for atom in parent.GetAtoms()}
    disallowed = sorted(elements - ALLOWED_ELEMENTS)
    if disallowed:
        return MoleculeRejection(
            DISALLOWED_ELEMENT,
            f"outside the model's chemistry: parent molecule contains {', '.join(disallowed)}; "
            "the models cover organic molecules "
            f"made of {', '.join(sorted(ALLOWED_ELEMENTS))} (salt counter-ions are removed first)",
        )
    return None


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
