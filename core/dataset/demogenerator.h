// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QtGlobal>

namespace Winnow {

/// Settings for writeDemoDataset(). Defaults give about 313 JPEGs (5 classes x 60, 3 junk, 10 unlabeled).
struct DemoOptions
{
    quint64 seed = 7;
    int imagesPerClass = 60;
    int imageSize = 160; ///< square images, pixels
    double mislabelFraction = 0.05; ///< share of the class images placed in a wrong class folder (rounded)
    bool junk = true; ///< add a blank image, a pure-noise image and a background without an object
    int unlabeledImages = 10; ///< extra images (of random classes) in `unlabeled/`
    int jpegQuality = 90;
};

/// A deliberately planted problem, as listed in the manifest.
struct PlantedProblem
{
    QString file; ///< relative to the dataset root, '/' separators
    QString kind; ///< "mislabeled" or "junk"
    QString trueClass; ///< the class the picture really shows; empty for junk
    QString placedIn; ///< the class folder it sits in
    QString detail; ///< junk only: "blank", "noise", "no object"
};

struct DemoResult
{
    QString error; ///< empty on success
    QString root; ///< absolute dataset folder
    QString manifestPath; ///< beside the dataset, never inside it (see demoManifestPath())
    QStringList classes; ///< sorted
    int images = 0; ///< files written (class folders + unlabeled/)
    QList<PlantedProblem> problems; ///< sorted by file
    QList<PlantedProblem> unlabeled; ///< files in unlabeled/ with their true class (kind "unlabeled")
    double seconds = 0; ///< wall time spent generating
    bool ok() const
    {
        return error.isEmpty();
    }
};

/// The demo's class names, sorted: circle, ring, square, star, triangle.
QStringList demoClasses();

/// `<dir>.manifest.json` (dir cleaned and absolute, no trailing slash): beside the dataset root, so that a scan of the
/// dataset never sees it.
QString demoManifestPath(const QString& dir);

/// Where the app keeps its demo dataset: QStandardPaths::AppDataLocation + "/demo" (with the app's organisation and
/// name "Winnow", on Linux ~/.local/share/Winnow/Winnow/demo). Needs the QCoreApplication names to be set first.
QString defaultDemoDir();

/// True if `dir` was written by writeDemoDataset(): its manifest exists beside it and says so.
bool isDemoDataset(const QString& dir);

/**
 * Writes a small folder-per-class dataset that behaves like a real one: procedurally drawn shapes (circle, ring,
 * square, star, triangle: distinct shape and colour, learnable by a pretrained CNN) on varied backgrounds (gradients,
 * smooth noise, clutter) with random scale, rotation, position, lighting, blur and noise, saved as JPEG with neutral
 * names (img-NNNN.jpg, which reveal nothing). About 5% of the class images sit in a wrong class folder and a few junk
 * images are added; every planted problem is listed in the manifest (demoManifestPath(dir)), a JSON object:
 * `{generator: "winnow-demo", version, seed, dataset, classes, images, files: [...],
 *   problems: [{file, kind: "mislabeled"|"junk", true_class (null for junk), placed_in, detail?}],
 *   unlabeled: [{file, true_class}]}`.
 *
 * Deterministic: the same options give byte-identical files (each image has its own seeded generator, so the parallel
 * generation order does not matter).
 *
 * Refuses (error, nothing written) when `dir` exists, is not empty and is not a previous demo. A previous demo is
 * regenerated in place: its generated files (img-NNNN.jpg in its class folders and unlabeled/) are removed first;
 * anything else in it is left alone. Blocking (about a second); thread-safe.
 */
DemoResult writeDemoDataset(const QString& dir, const DemoOptions& options = {});

} // namespace Winnow
