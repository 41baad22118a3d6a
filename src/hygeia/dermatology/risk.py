"""From a triage class to a risk group and a recommended next step, worded as decision support.

The grouping follows the clinical question the tool serves (which lesions need a dermatologist
soon), not the model: malignant classes are referred urgently, the pre-malignant one referred, the
benign ones left to routine checks. An 'uncertain' answer is never reassuring, so it is referred at
least as a pre-malignant lesion would be.
"""

from __future__ import annotations

from dataclasses import dataclass

RISK_GROUP: dict[str, str] = {
    "mel": "malignant",
    "bcc": "malignant",
    "akiec": "pre-malignant",
    "nv": "benign",
    "bkl": "benign",
    "df": "benign",
    "vasc": "benign",
}
ACTION: dict[str, str] = {
    "malignant": "refer urgently",
    "pre-malignant": "refer",
    "benign": "routine check",
}
ADVICE: dict[str, str] = {
    "refer urgently": "Features resemble a malignant lesion: consider urgent referral to a dermatologist.",
    "refer": "Features resemble a pre-malignant lesion, or the model is uncertain: consider referral.",
    "routine check": "Features resemble a benign lesion: consider a routine check; a changing or "
    "symptomatic lesion still needs review.",
}
_ORDER = ("routine check", "refer", "refer urgently")


@dataclass(frozen=True)
class RiskAdvice:
    group: str
    action: str
    advice: str


def advise(prediction: str, uncertain: bool) -> RiskAdvice:
    """The class's group and action; uncertainty raises a routine check to a referral."""
    group = RISK_GROUP[prediction]
    action = ACTION[group]
    if uncertain and _ORDER.index(action) < _ORDER.index("refer"):
        action = "refer"
    return RiskAdvice(group, action, ADVICE[action])
