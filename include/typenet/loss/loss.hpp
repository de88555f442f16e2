#pragma once
// The loss protocol. A loss L provides
//
//   template <class T> using target = ...;    // label_t (classifiers) or T (regression)
//   template <class OutShape> struct fits;     // static_asserts that the network output suits it
//   template <std::size_t Outputs, class T>
//   static double evaluate(const T* outputs, const target<T>* targets, T* gradient, std::size_t batch);
//
// evaluate returns the mean loss over the batch and, when gradient is not null,
// writes d(mean loss)/d(outputs) there (batch x Outputs). The mean over the batch
// is part of the loss, so gradients do not depend on the batch size's scale.
// Classifiers read their predicted class with predicted_class (core/classes.hpp).
#include <cstddef>

#include "../core/classes.hpp"
#include "../core/diagnostic.hpp"
#include "../core/shape.hpp"
#include "../data/dataset.hpp"
