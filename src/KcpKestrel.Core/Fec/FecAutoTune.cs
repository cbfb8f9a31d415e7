namespace KcpKestrel.Core.Fec;

/// <summary>
/// kcp-go's autoTune: records the data/parity flag of recent seqids and reads the sender's
/// (dataShards, parityShards) off the lengths of the runs of data and of parity.
/// </summary>
internal sealed class FecAutoTune
{
    /// <summary>maxAutoTuneSamples in kcp-go.</summary>
    public const int Samples = 258;

    private readonly bool[] _bits = new bool[Samples];
    private readonly uint[] _seqs = new uint[Samples];

    public void Sample(bool isData, uint seqid)
    {
        var slot = (int)(seqid % Samples);
        _bits[slot] = isData;
        _seqs[slot] = seqid;
    }

    /// <summary>
    /// Length of the first complete run of <paramref name="bit"/> that starts after an edge, scanning
    /// slots in order as kcp-go does; -1 when the runs are broken by a gap in seqids, 0 when none found.
    /// </summary>
    public int FindPeriod(bool bit)
    {
        var leftEdge = 0;
        var lastBit = _bits[0];
        var lastSeq = _seqs[0];
        for (var i = 1; i < Samples; i++)
        {
            if (lastBit != bit && _bits[i] == bit && lastSeq + 1 == _seqs[i])
            {
                leftEdge = i;
                break;
            }

            lastBit = _bits[i];
            lastSeq = _seqs[i];
        }

        lastBit = _bits[leftEdge];
        lastSeq = _seqs[leftEdge];
        for (var i = leftEdge + 1; i < Samples; i++)
        {
            if (lastSeq + 1 != _seqs[i])
            {
                return -1;
            }

            if (lastBit == bit && _bits[i] != bit)
            {
                return i - leftEdge;
            }

            lastBit = _bits[i];
            lastSeq = _seqs[i];
        }

        return 0;
    }
}
