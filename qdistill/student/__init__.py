"""Students: DistillNet, QDistillNet, distillation losses, quantization-aware training, pruning."""
