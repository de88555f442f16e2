#pragma once
// The random streams a training step draws from, besides fit's shuffling
// generator: one dropout stream per thread (each thread draws its part's masks
// from its own engine, see trainer.hpp) and, when augmenting, the augmentation
// stream (augment.hpp). A checkpoint records them so that a resumed run draws the
// same masks, flips and shifts as an uninterrupted one would have.
#include <optional>
#include <vector>

#include "../core/random.hpp"

namespace typenet {

struct random_streams {
    std::vector<random_engine::snapshot> dropout;              ///< one per training thread, thread 0 first
    std::optional<random_engine::snapshot> augmentation = {};  ///< present exactly when the trainer augments
};

}  // namespace typenet
