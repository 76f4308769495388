// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QMainWindow>

namespace Winnow {

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Opens a dataset folder (scan runs off the GUI thread). Errors are shown, never thrown.
    void openDataset(const QString& folder);
    /// First run: the demo dataset (generated on demand); later runs: the most recent folder.
    void openDefault();
};

} // namespace Winnow
