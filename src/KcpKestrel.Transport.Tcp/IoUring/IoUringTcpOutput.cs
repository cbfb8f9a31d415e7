using System.IO.Pipelines;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The send half of a connection, run on its worker: read what the app wrote to the output pipe, send
/// it straight from the pipe's segments (SEND for one, vectored SENDMSG for several), advance the pipe by
/// what the kernel took once the send completes, and shut the socket when the app completes the output.
/// </summary>
internal static unsafe class IoUringTcpOutput
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA2012", Justification = "Consumed once, after completion.")]
    internal static void Read(IoUringRing ring, IoUringTcpConnection c)
    {
        if (c.OutputDone || c.SendInFlight || c.ReadPending)
        {
            return;
        }

        var read = c.OutputReader.ReadAsync();
        if (!read.IsCompleted)
        {
            c.PendingRead = read;
            c.ReadPending = true;
            read.GetAwaiter().UnsafeOnCompleted(c.OnReadable);
            return;
        }

        OnRead(ring, c, read.GetAwaiter().GetResult());
    }

    internal static void OnReadable(IoUringRing ring, IoUringTcpConnection c)
    {
        if (!c.ReadPending)
        {
            return;
        }

        c.ReadPending = false;
        ReadResult result;
        try
        {
            // The stored read has completed: its continuation is what posted this.
#pragma warning disable CA2012
            result = c.PendingRead.GetAwaiter().GetResult();
#pragma warning restore CA2012
        }
        catch (Exception e)
        {
            Complete(c, e);
            return;
        }
        finally
        {
            c.PendingRead = default;
        }

        OnRead(ring, c, result);
    }

    private static void OnRead(IoUringRing ring, IoUringTcpConnection c, ReadResult result)
    {
        var buffer = result.Buffer;
        if (result.IsCanceled || c.Aborted || (buffer.IsEmpty && result.IsCompleted))
        {
            c.OutputReader.AdvanceTo(buffer.Start);
            Complete(c, null);
            return;
        }

        if (buffer.IsEmpty)
        {
            c.OutputReader.AdvanceTo(buffer.Start);
            Read(ring, c);
            return;
        }

        c.Sending = buffer;
        var sqe = ring.GetSqe();
        var tag = IoUringTcpWorker.Tag(IoUringTcpWorker.KindSend, c.Slot);
        if (buffer.IsSingleSegment)
        {
            var handle = buffer.First.Pin();
            c.SendHandles[0] = handle;
            c.SendHandleCount = 1;
            c.ZeroCopyInFlight = ZeroCopy(c, buffer.First.Length);
            if (c.ZeroCopyInFlight)
            {
                sqe->PrepareSendZc(c.Fd, handle.Pointer, (uint)buffer.First.Length, IoUringTcpNative.MsgNoSignal, tag);
            }
            else
            {
                sqe->PrepareSend(c.Fd, handle.Pointer, (uint)buffer.First.Length, IoUringTcpNative.MsgNoSignal, tag);
            }
        }
        else
        {
            // Several segments go out in one vectored SENDMSG; past MaxSendSegments the rest follows the completion.
            var iov = c.Header->Iov;
            var n = 0;
            long bytes = 0;
            foreach (var segment in buffer)
            {
                if (segment.IsEmpty)
                {
                    continue;
                }

                if (n == IoUringTcpConnection.MaxSendSegments)
                {
                    break;
                }

                var handle = segment.Pin();
                c.SendHandles[n] = handle;
                iov[n].Base = handle.Pointer;
                iov[n].Length = (nuint)segment.Length;
                bytes += segment.Length;
                n++;
            }

            c.SendHandleCount = n;
            c.Header->IovLength = (nuint)n;
            c.ZeroCopyInFlight = ZeroCopy(c, bytes);
            if (c.ZeroCopyInFlight)
            {
                sqe->PrepareSendMsgZc(c.Fd, c.Header, IoUringTcpNative.MsgNoSignal, tag);
            }
            else
            {
                sqe->PrepareSendMsg(c.Fd, c.Header, IoUringTcpNative.MsgNoSignal, tag);
            }
        }

        c.SendInFlight = true;
    }

    internal static void OnSent(IoUringRing ring, IoUringTcpConnection c, in IoUringCqe cqe)
    {
        var res = cqe.Res;
        if (c.ZeroCopyInFlight)
        {
            if (!cqe.IsNotification)
            {
                // The result; with F_MORE the kernel still reads the pinned pages: they go back to the pipe only
                // with the notification that follows.
                c.ZeroCopyResult = res;
                if (cqe.HasMore)
                {
                    return;
                }
            }
            else
            {
                res = c.ZeroCopyResult;
            }

            c.ZeroCopyInFlight = false;
        }

        c.SendInFlight = false;
        for (var i = 0; i < c.SendHandleCount; i++)
        {
            c.SendHandles[i].Dispose();
        }

        c.SendHandleCount = 0;
        var sent = c.Sending;
        c.Sending = default;
        if (res < 0)
        {
            c.OutputReader.AdvanceTo(sent.End);
            Complete(c, c.AbortReason is null ? new ConnectionResetException($"Send failed: errno {-res}.") : null);
        }
        else
        {
            // A short send leaves the rest unconsumed: the next read returns it at once.
            c.OutputReader.AdvanceTo(sent.GetPosition(res));
            Read(ring, c);
        }

    }

    internal static void Complete(IoUringTcpConnection c, Exception? error)
    {
        if (c.OutputDone)
        {
            return;
        }

        c.OutputDone = true;
        c.OutputReader.Complete(error);

        // As Kestrel's socket transport does: the app is done writing (or the socket failed), so shut both
        // directions; the FIN follows the queued data and the receive ends with 0.
        Shutdown(c);
        if (!c.RecvArmed)
        {
            c.CompleteInput(c.AbortReason);
        }
    }

    internal static void Abort(IoUringTcpConnection c)
    {
        Shutdown(c);
        if (c.ReadPending)
        {
            c.OutputReader.CancelPendingRead();
        }
        else if (!c.SendInFlight)
        {
            Complete(c, null);
        }

        if (!c.RecvArmed)
        {
            c.CompleteInput(c.AbortReason);
        }
    }

    private static bool ZeroCopy(IoUringTcpConnection c, long bytes) => c.ZeroCopySendThreshold > 0 && bytes >= c.ZeroCopySendThreshold;

    /// <summary>
    /// shutdown(SHUT_RDWR) as a direct syscall, not IORING_OP_SHUTDOWN: the kernel always runs that op on an io-wq
    /// thread (a thread wake-up dearer than the syscall) and looks the fd up only there, so a CLOSE of the same
    /// connection queued behind it can free the number first and the SHUTDOWN then hits whichever socket took it.
    /// </summary>
    private static void Shutdown(IoUringTcpConnection c) => _ = IoUringTcpNative.shutdown(c.Fd, IoUringTcpNative.ShutRdWr);
}
