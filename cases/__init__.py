"""Patients, cases, spinal lesions, the four NOMS sections and the case life cycle."""
