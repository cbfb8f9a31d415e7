using System.Runtime.InteropServices;

namespace KcpKestrel.Tests.Shared;

/// <summary>
/// POSIX signals to a child process (Linux numbers): the tests stop real processes the way an orchestrator does
/// (SIGTERM a drain or nginx's fast stop, SIGKILL a crash, SIGHUP an nginx reload).
/// </summary>
internal static partial class Signals
{
    public const int Hup = 1;
    public const int Kill = 9;
    public const int Term = 15;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when it is gone already.</summary>
    public static bool Send(int pid, int signal)
    {
        if (kill(pid, signal) == 0)
        {
            return true;
        }

        const int NoSuchProcess = 3; // ESRCH
        var errno = Marshal.GetLastPInvokeError();
        return errno == NoSuchProcess
            ? false
            : throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {errno}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
