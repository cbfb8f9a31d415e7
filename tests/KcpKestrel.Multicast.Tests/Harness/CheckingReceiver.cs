namespace KcpKestrel.Multicast.Tests.Harness;

/// <summary>
/// Counts what a subscriber delivers against <see cref="SequenceMessages"/>: in order, duplicated,
/// out of order, corrupt. Allocates nothing per message.
/// </summary>
internal sealed class CheckingReceiver : IMulticastReceiver
{
    public int Next { get; private set; }

    public int InOrder { get; private set; }

    public int Duplicates { get; private set; }

    public int OutOfOrder { get; private set; }

    public int Corrupt { get; private set; }

    public long Unrecoverable { get; private set; }

    public void OnMessage(byte topic, ReadOnlySpan<byte> message)
    {
        var index = SequenceMessages.Check(message);
        if (index < 0)
        {
            Corrupt++;
        }
        else if (index == Next)
        {
            InOrder++;
            Next++;
        }
        else if (index < Next)
        {
            Duplicates++;
        }
        else
        {
            // After an unrecoverable gap the stream resumes further on: count the jump, follow it.
            OutOfOrder++;
            Next = index + 1;
        }
    }

    public void OnUnrecoverable(ushort publisher, uint stream, ulong first, ulong last) => Unrecoverable += (long)(last - first + 1);
}
