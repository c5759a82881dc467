"""Graphs: node classification, graph tokenizers and GNN-to-MLP distillation (VQGraph)."""
