"""'Train' on data.csv: fit y = w * x by a few passes of gradient descent."""

epochs = 2
lr = 0.1

rows = [tuple(map(float, line.split(","))) for line in open("data.csv").read().splitlines()]
w = 0.0
for epoch in range(epochs):
    grad = sum((w * x - y) * x for x, y in rows) / len(rows)
    w -= lr * grad
loss = sum((w * x - y) ** 2 for x, y in rows) / len(rows)
with open("model.txt", "w") as f:
    f.write(f"w={w:.4f} epochs={epochs} lr={lr} rows={len(rows)}\n")
print(f"trained epochs={epochs} lr={lr} on {len(rows)} rows")
print(f"loss: {loss:.4f}")
