"""Beam-free text rules shared by the stages: answer extraction, prose views, language identification."""
