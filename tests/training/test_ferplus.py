"""Training learns from FER+ votes: ten annotators per face, their majority for selection, the
class prior divided out, and faces shown as a webcam would show them."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from contracts.labels import EMOTIONS
from training import data, ferplus
from training.prior import PriorAdjustedCrossentropy
from training.webcam import WebcamBatches, webcam_view

# FER+'s columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
# unknown, not a face.
NAMES = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
         "unknown", "NF"]


def test_the_majority_is_the_most_voted_expression_and_none_for_ties_or_other_columns():
    votes = np.array([[1, 0, 0, 6, 1, 0, 0, 1, 1, 0],   # sadness
                      [5, 5, 0, 0, 0, 0, 0, 0, 0, 0],   # a tie
                      [2, 0, 0, 0, 0, 0, 0, 6, 2, 0],   # contempt
                      [0, 0, 0, 0, 3, 0, 0, 0, 0, 7]])  # not a face
    assert ferplus.majority_labels(votes, NAMES).tolist() == [EMOTIONS.index("sad"), -1, -1, -1]


def test_publictest_has_the_3372_faces_with_a_majority_and_shares_that_sum_to_one():
    faces = ferplus.load(data.PUBLIC_TEST, ferplus.PUBLIC_TEST_VOTES)
    assert len(faces.with_majority()) == 3372
    assert np.allclose(faces.shares.sum(1), 1)
    # The majority is the expression with the largest share wherever there is one.
    clear = faces.majority >= 0
    assert np.array_equal(faces.shares[clear].argmax(1), faces.majority[clear])


def test_each_voted_face_knows_its_row_in_fer2013s_file():
    """So that a model run once over the file is scored on FER+ majorities from the same run."""
    faces = data.load(data.PUBLIC_TEST)
    voted = ferplus.load(data.PUBLIC_TEST, ferplus.PUBLIC_TEST_VOTES).with_majority()
    assert np.array_equal(faces.images[voted.rows], voted.images)
    assert np.array_equal(faces.labels[voted.rows], voted.fer_labels)


def test_balanced_accuracy_gives_each_expression_the_same_weight():
    truth = np.array([4] * 8 + [0, 1])
    always_neutral = np.full(10, 4)
    assert np.mean(always_neutral == truth) == 0.8
    assert ferplus.balanced_accuracy(truth, always_neutral) == pytest.approx(1 / 3)


def test_the_prior_adjusted_loss_is_least_for_the_prior_free_posterior():
    """Votes spread like the prior carry no evidence: the loss is least where the model's own
    output is uniform, so the served model does not lean to the common expressions."""
    prior = np.array([0.05, 0.02, 0.03, 0.25, 0.35, 0.15, 0.15], np.float32)
    loss = PriorAdjustedCrossentropy(prior)
    uniform = np.full((1, 7), 1 / 7, np.float32)
    leaning = prior[np.newaxis]
    assert float(loss(prior[np.newaxis], uniform)) < float(loss(prior[np.newaxis], leaning))
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert restored.prior == pytest.approx(prior.tolist())


def test_webcam_views_keep_the_face_shape_and_differ_from_epoch_to_epoch():
    faces = data.load(data.PUBLIC_TEST).images[:8]
    view = webcam_view(faces[0], np.random.default_rng(0))
    assert view.shape == (48, 48) and view.dtype == np.uint8
    batches = WebcamBatches(faces, np.eye(7, dtype=np.float32)[np.arange(8) % 7], 4, seed=1)
    first, targets = batches[0]
    assert first.shape == (4, 48, 48, 1) and targets.shape == (4, 7)
    batches.on_epoch_end()
    assert not np.array_equal(batches[0][0], first)
