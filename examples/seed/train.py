"""'Train' on data.csv: fit y = w * x by gradient descent, 5 steps per epoch with a learning
rate falling linearly to 0. Each step logs `step`, `loss` and `train_accuracy` lines: Guild
records them as scalar series (`guild compare`, TensorBoard, the editor's Plots)."""

epochs = 2
lr = 0.1

rows = [tuple(map(float, line.split(","))) for line in open("data.csv").read().splitlines()]


def loss_of(w):
    return sum((w * x - y) ** 2 for x, y in rows) / len(rows)


def accuracy_of(w):
    return sum(1 for x, y in rows if abs(w * x - y) <= 0.5 + 0.1 * abs(y)) / len(rows)


steps = epochs * 5
w = 0.0
for step in range(1, steps + 1):
    rate = lr * 0.5 * (1 - (step - 1) / steps)
    w -= rate * sum((w * x - y) * x for x, y in rows) / len(rows)
    print(f"step: {step}")
    print(f"loss: {loss_of(w):.4f}")
    print(f"train_accuracy: {accuracy_of(w):.2f}")
with open("model.txt", "w") as f:
    f.write(f"w={w:.4f} epochs={epochs} lr={lr} rows={len(rows)}\n")
print(f"trained epochs={epochs} lr={lr} on {len(rows)} rows")
