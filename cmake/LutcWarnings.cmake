# The golden decode is bit-exact only if no compiler fuses a*b+c into an FMA
# behind our back: every implementation must round where docs/numerics.md says.
add_compile_options(-Wall -Wextra -ffp-contract=off)
