// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/mainwindow.h"

namespace Winnow {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
{
    setWindowTitle(QStringLiteral("Winnow"));
}

MainWindow::~MainWindow() = default;

void MainWindow::openDataset(const QString&)
{
}

void MainWindow::openDefault()
{
}

} // namespace Winnow
